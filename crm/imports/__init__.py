from crm.imports.routes import bp

__all__ = ["bp"]
