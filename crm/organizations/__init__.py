from flask import Blueprint

from crm.records.views import register_record_views
from crm.services.record_types import ORGANIZATION

bp = Blueprint("organizations", __name__, url_prefix="/organizations")
register_record_views(bp, ORGANIZATION)
