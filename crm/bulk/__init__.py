from crm.bulk import trash  # noqa: F401  (registers the trash routes and purge-trash on bp)
from crm.bulk.routes import bp

__all__ = ["bp"]
