from crm.admin import assignment, scoring, statuses  # noqa: F401  (register their routes on bp)
from crm.admin.routes import bp

__all__ = ["bp"]
