from crm.tokens.routes import bp

__all__ = ["bp"]
