from crm.merge.routes import bp

__all__ = ["bp"]
