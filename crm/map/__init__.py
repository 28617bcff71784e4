from crm.map import places  # noqa: F401  (its routes join the map blueprint)
from crm.map.routes import bp

__all__ = ["bp"]
