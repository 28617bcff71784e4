from crm.admin import statuses  # noqa: F401  (registers the lead-status routes on bp)
from crm.admin.routes import bp

__all__ = ["bp"]
