"""Activities and notes of a record, pools and users (read): the services the record pages use."""
import marshmallow as ma
from flask_smorest import Blueprint
from marshmallow import fields, validate
from sqlalchemy import select

from crm.api.v1.calls import ApiError, add_route, call, limited, refusals, viewer
from crm.api.v1.records import enabled, visible
from crm.api.v1.schemas import Strict, UtcDateTime
from crm.extensions import db
from crm.i18n import _
from crm.models import Note, Pool, Role, User
from crm.models.engagement import ACTIVITY_KINDS
from crm.services import engagement
from crm.services.record_types import RECORD_TYPES, RecordType

blp = Blueprint("api_engagement", __name__, url_prefix="/api/v1", description="Activities, notes, pools, users")
limited(blp)


class ActivityOut(ma.Schema):
    id = fields.Integer(required=True)
    kind = fields.String(required=True)
    subject = fields.String(required=True)
    due_at = UtcDateTime(allow_none=True)
    done = fields.Boolean(required=True)
    owner_id = fields.Integer(allow_none=True)
    created_at = UtcDateTime(required=True)


class ActivityIn(Strict):
    kind = fields.String(required=True, validate=validate.OneOf(ACTIVITY_KINDS))
    subject = fields.String(required=True, validate=validate.Length(min=1, max=200))
    due_at = fields.DateTime(allow_none=True, metadata={"description": "Local date and time, ISO 8601"})


class ActivityPatch(Strict):
    done = fields.Boolean(required=True)


class NoteOut(ma.Schema):
    id = fields.Integer(required=True)
    body = fields.String(required=True)
    author_id = fields.Integer(allow_none=True)
    created_at = UtcDateTime(required=True)


class NoteIn(Strict):
    body = fields.String(required=True, validate=validate.Length(min=1, max=10000))


class PoolOut(ma.Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    record_type = fields.String(required=True)
    active = fields.Boolean(required=True)
    members = fields.Function(lambda pool: [m.user_id for m in pool.members], required=True,
                              metadata={"type": "array", "items": {"type": "integer"}})


class UserOut(ma.Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    email = fields.String(required=True)
    role = fields.String(required=True)
    team_id = fields.Integer(allow_none=True)
    active = fields.Boolean(required=True)


def _record(rtype: RecordType, record_id: int):
    enabled(rtype)
    return visible(rtype, record_id)


def _routes(rtype: RecordType) -> None:
    """Activities and notes of one record type."""
    plural, name, tags = rtype.plural, rtype.name, [rtype.label + "s"]
    base = f"/{plural}/<int:record_id>"

    def list_activities(record_id):
        _record(rtype, record_id)
        return db.session.scalars(engagement.activities_select(rtype, record_id)).all()

    def add_activity(data, record_id):
        record = _record(rtype, record_id)
        due = data["due_at"].isoformat() if data.get("due_at") else None
        activity = engagement.plan_activity(db.session, rtype, record, data["kind"], data["subject"], due, viewer())
        db.session.flush()
        return activity

    def mark_activity(data, record_id, activity_id):
        record = _record(rtype, record_id)
        activity = db.session.scalar(engagement.activity_of(rtype, record_id, activity_id))
        if activity is None:
            raise ApiError(404, _("There is no such activity on this record."))
        change = engagement.complete_activity if data["done"] else engagement.reopen_activity
        change(db.session, rtype, record, activity, viewer())
        return activity

    def list_notes(record_id):
        _record(rtype, record_id)
        column = getattr(Note, f"{name}_id")
        return db.session.scalars(select(Note).where(column == record_id).order_by(Note.id.desc())).all()

    def add_note(data, record_id):
        note = engagement.add_note(db.session, rtype, _record(rtype, record_id), data["body"], viewer())
        db.session.flush()
        return note

    routes = (
        (f"{base}/activities", "GET", list_activities, "Activities of the record, open ones first",
         (blp.response(200, ActivityOut(many=True)),), False),
        (f"{base}/activities", "POST", add_activity, "Plan an activity (owned by the caller)",
         (blp.arguments(ActivityIn), blp.response(201, ActivityOut)), True),
        (f"{base}/activities/<int:activity_id>", "PATCH", mark_activity, "Mark an activity done or open again",
         (blp.arguments(ActivityPatch), blp.response(200, ActivityOut)), True),
        (f"{base}/notes", "GET", list_notes, "Notes of the record, newest first",
         (blp.response(200, NoteOut(many=True)),), False),
        (f"{base}/notes", "POST", add_note, "Add a note", (blp.arguments(NoteIn), blp.response(201, NoteOut)), True),
    )
    for rule, method, view, doc, docs, write in routes:
        view.__doc__ = doc
        add_route(blp, rule, method, f"{view.__name__}_{name}", view, docs, write=write, tags=tags)


for _rtype in RECORD_TYPES.values():
    _routes(_rtype)


@blp.route("/pools", methods=["GET"], tags=["Pools and users"])
@refusals(blp)
@call()
@blp.response(200, PoolOut(many=True))
def list_pools():
    """Distribution pools (round robin): name one as `owner` with pool:<id> or pool:<name>"""
    return db.session.scalars(select(Pool).order_by(Pool.name)).all()


@blp.route("/users", methods=["GET"], tags=["Pools and users"])
@refusals(blp)
@call()
@blp.response(200, UserOut(many=True))
def list_users():
    """Users the caller may hand records to or see as owners (a rep: their team)"""
    stmt = select(User).order_by(User.name)
    if viewer().role != Role.ADMIN:
        stmt = stmt.where(User.team_id == viewer().team_id) if viewer().team_id else stmt.where(User.id == viewer().id)
    return db.session.scalars(stmt).all()

