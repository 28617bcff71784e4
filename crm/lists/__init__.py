from crm.lists.routes import bp

__all__ = ["bp"]
