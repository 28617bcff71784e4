from crm.jobs.routes import bp

__all__ = ["bp"]
