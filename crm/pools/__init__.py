from crm.pools.routes import bp

__all__ = ["bp"]
