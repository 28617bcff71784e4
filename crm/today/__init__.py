from crm.today.routes import bp

__all__ = ["bp"]
