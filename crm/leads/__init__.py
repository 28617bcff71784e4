"""The leads pages, and the one guard that refuses every request about leads while they are off."""
from flask import Blueprint, abort, request
from flask_login import current_user

from crm.extensions import db
from crm.records.views import register_record_views
from crm.services.record_types import LEAD
from crm.services.settings import LEADS_OFF, leads_enabled

bp = Blueprint("leads", __name__, url_prefix="/leads")
register_record_views(bp, LEAD)


@bp.before_app_request
def refuse_leads_when_switched_off():
    """403 for any request about leads while they are switched off for the user (the API, which
    also takes tokens, checks its own caller)."""
    if request.blueprint != "api" and _asks_for_leads() and current_user.is_authenticated \
            and not leads_enabled(db.session, current_user):
        abort(403, LEADS_OFF)


def _asks_for_leads() -> bool:
    """A /leads/... URL (lists, records, convert, merge, duplicates), leads in the path
    (/map/leads/points), `type=lead` (mass change, trash, map) or `record_type=lead` (import)."""
    rule = request.url_rule
    if rule is None:
        return False
    path_default = (rule.defaults or {}).get("plural")  # /map picks its own type, see map.index
    return (rule.rule == "/leads" or rule.rule.startswith("/leads/")
            or ((request.view_args or {}).get("plural") == "leads" and path_default is None)
            or "lead" in request.values.getlist("type") + request.values.getlist("record_type"))
