from crm.map.routes import bp

__all__ = ["bp"]
