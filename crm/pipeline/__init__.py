from crm.pipeline.routes import bp
from crm.pipeline import conversions  # noqa: F401  (registers the conversion routes on bp)

__all__ = ["bp"]
