from crm.webhooks.routes import bp

__all__ = ["bp"]
