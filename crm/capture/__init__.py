from crm.capture.routes import bp

__all__ = ["bp"]
