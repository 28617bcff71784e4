from crm.admin.routes import bp

__all__ = ["bp"]
