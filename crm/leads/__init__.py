from flask import Blueprint, abort
from flask_login import current_user

from crm.extensions import db
from crm.records.views import register_record_views
from crm.services.record_types import LEAD
from crm.services.settings import leads_enabled

bp = Blueprint("leads", __name__, url_prefix="/leads")
register_record_views(bp, LEAD)


@bp.before_request
def refuse_when_leads_are_off():
    if current_user.is_authenticated and not leads_enabled(db.session, current_user):
        abort(403, "Leads are switched off for your team. Ask an admin, or work with deals.")
