from crm.activity.routes import bp

__all__ = ["bp"]
