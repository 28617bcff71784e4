from crm.api.routes import bp

__all__ = ["bp"]
