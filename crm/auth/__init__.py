from crm.auth import account  # noqa: F401  (its routes join the blueprint)
from crm.auth.routes import bp

__all__ = ["bp"]
