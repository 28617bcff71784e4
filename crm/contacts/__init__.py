from flask import Blueprint

from crm.records.views import register_record_views
from crm.services.record_types import CONTACT

bp = Blueprint("contacts", __name__, url_prefix="/contacts")
register_record_views(bp, CONTACT)
