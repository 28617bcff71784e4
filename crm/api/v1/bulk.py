"""Mass change through the API: a dry run, then the change confirmed for exactly that set.

The dry run answers the count, the breakdowns and a confirmation token: the set's fingerprint
(crm/services/bulk/fingerprint.py) signed together with the action, so the token confirms that
change of that set only. Applying sends the token back; the bulk engine compares the fingerprint
with the set it froze and refuses (409) when records left or joined it. Sets larger than
BULK_INLINE_LIMIT run as a background job (202) whose progress GET /api/v1/jobs/<id> reports.
"""
import hashlib
import hmac

import marshmallow as ma
from flask import current_app, url_for
from flask_smorest import Blueprint
from marshmallow import fields, validate
from werkzeug.datastructures import MultiDict

from crm.api.v1.calls import ApiError, add_route, call, limited, refusals, viewer
from crm.api.v1.records import as_choice, enabled
from crm.api.v1.schemas import Strict, UtcDateTime
from crm.bulk import background
from crm.bulk.forms import ActionRequest, read_selection, selection_args
from crm.extensions import db
from crm.i18n import _
from crm.models import Job
from crm.services import bulk
from crm.services.bulk import StaleSelection
from crm.services.owners import canonical_choice
from crm.services.record_types import RECORD_TYPES, RecordType

blp = Blueprint("api_bulk", __name__, url_prefix="/api/v1", description="Mass change and jobs")
limited(blp)


class MassChangeIn(Strict):
    filter = fields.Dict(keys=fields.String(), values=fields.Raw(), load_default=dict, metadata={
        "description": "The list's filter arguments, e.g. {\"owner\": [\"3\"], \"q\": \"acme\"}",
        "additionalProperties": {"type": ["string", "array"], "items": {"type": "string"}}})
    ids = fields.List(fields.Integer(validate=validate.Range(min=1, max=2**63 - 1)), allow_none=True,
                      validate=validate.Length(max=100_000),
                      metadata={"description": "A selection within the filter; omitted: every record matching"})
    action = fields.String(required=True, validate=validate.OneOf(["reassign", "change", "delete"]))
    owner = fields.String(validate=validate.Length(max=200), metadata={
        "description": "reassign: user id or email, pool:<id> or pool:<name>"})
    stage = fields.Integer(validate=validate.Range(min=1, max=2**63 - 1),
                           metadata={"description": "change: a deal stage id, or a lead status id"})
    confirmation = fields.String(validate=validate.Length(max=200), metadata={
        "description": "The dry run's token; omitted: a dry run (nothing changes)"})


class Count(ma.Schema):
    name = fields.String(required=True)
    count = fields.Integer(required=True)


class OwnerCount(Count):
    owner = fields.Integer(allow_none=True, required=True)


class MassChangeOut(ma.Schema):
    dry_run = fields.Boolean(required=True)
    count = fields.Integer(required=True, metadata={"description": "Records the change touches"})
    by_owner = fields.List(fields.Nested(OwnerCount))
    by_stage = fields.List(fields.Nested(Count))
    ignored = fields.List(fields.Integer(), metadata={"description": "Ids sent that are not in the set"})
    confirmation = fields.String(allow_none=True)
    changed = fields.Integer(allow_none=True)
    batch_id = fields.String(allow_none=True)
    message = fields.String(allow_none=True)
    job = fields.String(allow_none=True, metadata={"description": "A background job's id (status 202)"})


class JobOut(ma.Schema):
    id = fields.String(required=True)
    kind = fields.String(required=True)
    status = fields.String(required=True, metadata={"description": "queued, running, done or failed"})
    total = fields.Integer(required=True)
    done = fields.Integer(required=True)
    percent = fields.Integer(required=True)
    message = fields.String(required=True)
    result = fields.Dict(required=True)
    created_at = UtcDateTime(required=True)
    finished_at = UtcDateTime(allow_none=True)


def _selection(rtype: RecordType, data: dict) -> bulk.Selection:
    args = MultiDict([("type", rtype.name)])
    for key, value in data["filter"].items():
        for item in value if isinstance(value, list) else [value]:
            if not isinstance(item, (str, int)) or isinstance(item, bool):
                raise ApiError(400, _("Filter values are text or lists of text."), {key: [str(item)[:80]]})
            args.add(key, str(item))
    args.pop("ids", None)
    args.pop("page", None)
    if data.get("ids") is None:
        args.add("all", "1")
    else:
        args.add("ids", ",".join(map(str, data["ids"])))
    sel = read_selection(db.session, args, viewer())
    if sel.flt.errors:
        raise ApiError(400, _("The filter is not valid."), [str(e) for e in sel.flt.errors])
    return sel


def _signature(fingerprint: str, data: dict) -> str:
    """The token: the set's fingerprint and a signature of it with the change it confirms."""
    what = "|".join((fingerprint, str(viewer().id), data["action"], data.get("owner") or "",
                     str(data.get("stage") or "")))
    key = current_app.config["SECRET_KEY"].encode()
    return f"{fingerprint}.{hmac.new(key, what.encode(), hashlib.sha256).hexdigest()[:32]}"


def _request(data: dict, count: int, pinned: str) -> ActionRequest:
    return ActionRequest(action=data["action"], count=count, pinned=pinned, new_owner=data.get("owner") or "",
                         new_stage=data.get("stage"))


def mass_change(rtype: RecordType, data: dict):
    enabled(rtype)
    sel = _selection(rtype, data)
    if data["action"] == "reassign" and not data.get("owner"):
        raise ApiError(422, _("Choose the new owner."), {"owner": [_("Choose the new owner.")]})
    if data["action"] == "change" and not data.get("stage"):
        raise ApiError(422, _("Choose the new stage or status."), {"stage": [_("Choose the new stage or status.")]})
    if data.get("owner"):
        data["owner"] = canonical_choice(db.session, as_choice(data["owner"]))
    token = data.get("confirmation")
    if not token:
        preview = bulk.preview(db.session, sel)
        return {"dry_run": True, "count": preview.total, "ignored": preview.ignored,
                "by_owner": [{"owner": r.owner_id or None, "name": r.name, "count": r.count} for r in preview.by_owner
                             if not r.skipped],
                "by_stage": [{"name": name, "count": n} for name, n in preview.by_stage],
                "confirmation": _signature(preview.pinned, data)}
    pinned = token.rpartition(".")[0]
    if not hmac.compare_digest(token, _signature(pinned, data)):
        raise ApiError(422, _("This confirmation is not for this change: run the dry run again."))
    count = int(pinned.partition("-")[0])
    if count > current_app.config["BULK_INLINE_LIMIT"]:
        job = background.start(db.session, viewer(), selection_args(sel), _request(data, count, pinned),
                               url_for("bulk.show_batch", batch_id=background.BATCH))
        return {"dry_run": False, "count": count, "job": job.id,
                "message": _("The change runs in the background.")}, 202
    try:
        outcome = bulk.apply_action(db.session, sel, data["action"], new_owner=data.get("owner") or "",
                                    new_stage=data.get("stage"), expected=count, pinned=pinned)
    except StaleSelection as error:
        raise ApiError(409, str(error)) from None
    return {"dry_run": False, "count": outcome.selected, "changed": outcome.changed, "message": outcome.message,
            "batch_id": outcome.batch.id if outcome.batch else None}


def _routes(rtype: RecordType) -> None:
    def view(data):
        return mass_change(rtype, data)

    view.__doc__ = (f"Mass change of {rtype.plural}: without `confirmation` a dry run (count, breakdowns, "
                    "token); with it, the change, refused with 409 if the set changed since")
    add_route(blp, f"/{rtype.plural}/mass-change", "POST", f"mass_change_{rtype.plural}", view,
              (blp.arguments(MassChangeIn), blp.response(200, MassChangeOut),
               blp.alt_response(202, schema=MassChangeOut, description="Running as a background job")),
              write=True, tags=[rtype.label + "s"])


for _rtype in RECORD_TYPES.values():
    _routes(_rtype)


@blp.route("/jobs/<job_id>", methods=["GET"], tags=["Mass change and jobs"])
@refusals(blp)
@call()
@blp.response(200, JobOut)
def show_job(job_id: str):
    """A background job's status and progress (mass changes, imports), if the caller started it"""
    job = db.session.get(Job, job_id[:36])
    if job is None or job.actor_id != viewer().id:
        raise ApiError(404, _("There is no such job."))
    return job
