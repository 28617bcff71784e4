from flask import Blueprint

from crm.records.views import register_record_views
from crm.services.record_types import DEAL

bp = Blueprint("deals", __name__, url_prefix="/deals")
register_record_views(bp, DEAL)
