"""Append-only history: writing events and turning them into sentences people read."""
import uuid
from dataclasses import dataclass
from crm.models.mixins import utcnow

from sqlalchemy import Select, and_, delete, insert, or_, select, update
from sqlalchemy.orm import Session

from crm.models import (
    AssignmentRule, Batch, Contact, CustomField, HistoryEvent, LeadStatus, MergeLink, Organization, Pipeline, Pool, Role, Stage, Team,
    Territory, User,
)
from crm.i18n import _, _l
from crm.params import to_id
from crm.services import webhooks
from crm.services.permissions import visible_clause
from crm.services.record_types import RECORD_TYPES, RecordType

# Foreign-key fields whose stored ids are shown by name.
REFERENCES = {
    "owner_id": (User, _l("owner")),
    "stage_id": (Stage, _l("stage")),
    "status_id": (LeadStatus, _l("status")),
    "territory_id": (Territory, _l("territory")),
    "pipeline_id": (Pipeline, _l("pipeline")),
    "organization_id": (Organization, _l("organization")),
    "contact_id": (Contact, _l("contact")),
    "team_id": (Team, _l("team")),
}
BATCH_WORDS = {"reassign": _l("mass change"), "change": _l("mass change"), "delete": _l("mass change"),
               "route": _l("mass change"),
               "import": _l("import"), "merge": _l("merge"), "convert": _l("conversion"), "undo": _l("undo"),
               "restore": _l("restore"), "territories": _l("territory update"),
               "status_remove": _l("status removal")}
# Admin events are logged against things that are not records (no page to link to): what each is
# called, and the column holding its current name (a setting has none).
ADMIN_THINGS = {"custom_field": ("custom field", CustomField.label), "lead_status": ("lead status", LeadStatus.name),
                "team": ("team", Team.name), "user": ("user", User.name), "setting": ("setting", None)}


def new_batch_id() -> str:
    return str(uuid.uuid4())


def log(session: Session, record_type: str, record_id: int, actor_id: int | None, kind: str,
        field: str | None = None, old=None, new=None, batch_id: str | None = None,
        via: str | None = None) -> None:
    session.execute(insert(HistoryEvent).values(
        record_type=record_type, record_id=record_id, actor_id=actor_id, kind=kind, field=field,
        old=_text(old), new=_text(new), batch_id=batch_id, via=via, at=utcnow()))
    if batch_id is None:
        webhooks.note_record(session, record_type, record_id, kind, actor_id)


def log_changes(session: Session, record_type: str, record_id: int, actor_id: int | None,
                changes: dict[str, tuple], batch_id: str | None = None, owner_via: str | None = None) -> None:
    """One "update" event per changed field; `owner_via` ("pool:2") says what chose a new owner."""
    rows = [dict(record_type=record_type, record_id=record_id, actor_id=actor_id, kind="update",
                 field=name, old=_text(old), new=_text(new), batch_id=batch_id, at=utcnow(),
                 via=owner_via if name in ("owner_id", "team_id") else None)
            for name, (old, new) in changes.items()]
    if rows:
        session.execute(insert(HistoryEvent), rows)
        if batch_id is None:
            webhooks.note_record(session, record_type, record_id, "update", actor_id)


def open_batch(session: Session, actor_id: int | None, action: str, record_type: str,
               count: int, summary: str, params: dict | None = None,
               batch_id: str | None = None) -> Batch:
    """A batch row and its single feed entry (record_type "batch")."""
    batch = Batch(id=batch_id or new_batch_id(), actor_id=actor_id, action=action,
                  record_type=record_type, count=count, summary=summary, params=params or {})
    session.add(batch)
    session.flush()
    log(session, "batch", 0, actor_id, action, new=summary, batch_id=batch.id)
    return batch


def discard_batch(session: Session, batch: Batch) -> None:
    """Remove a batch that changed nothing (a second click found the work done), with its feed entry."""
    session.execute(delete(HistoryEvent).where(HistoryEvent.batch_id == batch.id))
    session.delete(batch)
    session.flush()


def close_batch(session: Session, batch: Batch, count: int, summary: str) -> None:
    """Set the batch's final count and summary, on the batch and on its feed entry."""
    batch.count, batch.summary = count, summary
    webhooks.note_batch(session, batch)
    session.execute(update(HistoryEvent).where(HistoryEvent.batch_id == batch.id, HistoryEvent.record_type == "batch")
                    .values(new=summary).execution_options(synchronize_session=False))


def _text(value) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "yes" if value else "no"
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def timeline_select(record_type: str, record_id: int) -> Select:
    """A record's events, and those of the records merged into it (events are never rewritten)."""
    return (select(HistoryEvent)
            .where(HistoryEvent.record_type == record_type,
                   or_(HistoryEvent.record_id == record_id,
                       HistoryEvent.record_id.in_(_merged_into(record_type, record_id))))
            .order_by(HistoryEvent.at.desc(), HistoryEvent.id.desc()))


def _merged_into(record_type: str, record_id: int) -> Select:
    """Ids merged into the record, also through earlier merges (UNION stops at cycles)."""
    link = MergeLink
    live = and_(link.record_type == record_type, link.undone_at.is_(None))
    merged = select(link.record_id).where(live, link.survivor_id == record_id).cte("merged", recursive=True)
    merged = merged.union(select(link.record_id).where(live, link.survivor_id == merged.c.record_id))
    return select(merged.c.record_id)


def feed_select(viewer: User, actor_id: int | None = None) -> Select:
    """Events across records, newest first: one entry per batch, never one per batched record."""
    stmt = select(HistoryEvent).where(
        or_(HistoryEvent.batch_id.is_(None), HistoryEvent.record_type == "batch"))
    if actor_id:
        stmt = stmt.where(HistoryEvent.actor_id == actor_id)
    if viewer.role != Role.ADMIN:
        stmt = stmt.where(_feed_visibility(viewer))
    return stmt.order_by(HistoryEvent.at.desc(), HistoryEvent.id.desc())


def may_see_batch(session: Session, batch: Batch, viewer: User) -> bool:
    """The same rule as the feed: admins see every batch, others their own and their team's."""
    if viewer.role == Role.ADMIN or batch.actor_id == viewer.id:
        return True
    actor = session.get(User, batch.actor_id) if batch.actor_id else None
    return actor is not None and viewer.team_id is not None and actor.team_id == viewer.team_id


def _feed_visibility(viewer: User):
    parts = [and_(HistoryEvent.record_type == name,
                  HistoryEvent.record_id.in_(select(t.model.id).where(visible_clause(t.model, viewer))))
             for name, t in RECORD_TYPES.items()]
    team_actors = select(User.id).where(User.team_id == viewer.team_id) if viewer.team_id else [viewer.id]
    parts.append(and_(HistoryEvent.record_type == "batch", HistoryEvent.actor_id.in_(team_actors)))
    return or_(*parts)


@dataclass
class EventView:
    event: HistoryEvent
    text: str
    record_label: str | None = None
    rtype: RecordType | None = None  # set only when the event is about a record (which has a page)


def describe(session: Session, events: list[HistoryEvent], *, with_record: bool = False) -> list[EventView]:
    """Sentences for events, resolving ids to names with one query per referenced table."""
    names = _resolve_names(session, events)
    batches = _batches(session, events)
    titles = _record_titles(session, events) if with_record else {}
    views = []
    for e in events:
        views.append(EventView(e, _sentence(e, names, batches.get(e.batch_id)),
                               titles.get((e.record_type, e.record_id)), RECORD_TYPES.get(e.record_type)))
    return views


def _sentence(e: HistoryEvent, names: dict, batch: Batch | None) -> str:
    """The event in the reader's language (batch entries keep the words they were written in)."""
    actor = e.actor.name if e.actor else _("System")
    if e.record_type == "batch":
        return e.new or f"{actor} ran a {e.kind}"
    if e.record_type not in RECORD_TYPES:
        return _admin_sentence(e, names)
    if e.kind == "update" and e.field:
        text = _field_change(e, names)
    elif e.kind == "merge_value":
        text = _("merged from #%(id)s: %(field)s %(value)s", id=e.new, field=_field_label(e), value=e.old)
    else:
        text = _record_event(e.kind, e.new or "")
    if batch is not None:
        # TRANSLATORS: after a record's history entry: "(mass change by Ana Ruiz)".
        return _("%(event)s (%(what)s by %(actor)s)", event=text,
                 what=BATCH_WORDS.get(batch.action, batch.action), actor=actor)
    return text


def _record_event(kind: str, detail: str) -> str:
    """"created", "note added: Call back on Monday", ..."""
    if kind == "create":
        return _("created")
    if kind == "delete":
        return _("moved to trash %(detail)s", detail=detail).strip() if detail else _("moved to trash")
    if kind == "restore":
        return _("restored from trash")
    if kind == "purge":
        return _("purged for good")
    if kind == "convert":
        return _("converted: %(detail)s", detail=detail) if detail else _("converted")
    if kind == "merge":
        return _("merged: %(detail)s", detail=detail) if detail else _("merged")
    if kind == "note":
        return _("note added: %(note)s", note=detail)
    if kind == "activity":
        return _("activity planned: %(activity)s", activity=detail)
    if kind == "activity_done":
        return _("activity done: %(activity)s", activity=detail)
    if kind == "activity_reopened":
        return _("activity reopened: %(activity)s", activity=detail)
    if kind == "email":
        return _("email logged: %(subject)s", subject=detail)
    return detail or kind


def _admin_sentence(e: HistoryEvent, names: dict) -> str:
    """"added custom field “Budget code” to leads", "user “Ana Ruiz”: role changed from rep to manager"."""
    thing = ADMIN_THINGS[e.record_type][0] if e.record_type in ADMIN_THINGS else e.record_type.replace("_", " ")
    if e.kind in ("create", "delete"):
        verb, value = ("added", e.new) if e.kind == "create" else ("deleted", e.old)
        if e.record_type == "custom_field" and value and ": " in value:
            rtype_name, label = value.split(": ", 1)
            where = RECORD_TYPES[rtype_name].plural if rtype_name in RECORD_TYPES else rtype_name
            return f"{verb} {thing} “{label}” {'to' if verb == 'added' else 'from'} {where}"
        return f"{verb} {thing} “{value}”" if value else f"{verb} {thing} #{e.record_id}"
    name = names.get((e.record_type, e.record_id))
    subject = f"{thing} “{name}”" if name else f"{thing} #{e.record_id}" if e.record_id else thing
    change = _field_change(e, names) if e.kind == "update" and e.field else e.new or e.kind
    return f"{subject}: {change}"


def _field_change(e: HistoryEvent, names: dict) -> str:
    label = REFERENCES[e.field][1] if e.field in REFERENCES else _field_label(e).lower()
    old, new = (_display(e.field, v, names) for v in (e.old, e.new))
    if new is not None and e.field == "owner_id" and ("via", e.via) in names:
        if e.via.startswith("rule:"):
            new = _("%(owner)s (assignment rule “%(rule)s”)", owner=new, rule=names[("via", e.via)])
        else:
            new = _("%(owner)s (pool %(pool)s)", owner=new, pool=names[("via", e.via)])
    if old is None:
        return _("%(field)s set to %(new)s", field=label, new=new)
    if new is None:
        return _("%(field)s cleared (was %(old)s)", field=label, old=old)
    return _("%(field)s changed from %(old)s to %(new)s", field=label, old=old, new=new)


def _field_label(e: HistoryEvent) -> str:
    """The registry's label of an event's field (a custom field's key when it is not in the registry)."""
    rtype = RECORD_TYPES.get(e.record_type)
    field = next((f for f in rtype.fields if e.field in (f.name, f.column)), None) if rtype else None
    return str(field.label) if field else e.field.removeprefix("custom.").replace("_", " ")


def _display(field: str, value: str | None, names: dict) -> str | None:
    if value is None:
        return None
    if field in REFERENCES and to_id(value):
        return names.get((field, to_id(value)), f"#{value}")
    return value


def _resolve_names(session: Session, events: list[HistoryEvent]) -> dict:
    wanted: dict[str, set[int]] = {}
    for e in events:
        if e.field in REFERENCES:
            for v in (e.old, e.new):
                if to_id(v):
                    wanted.setdefault(e.field, set()).add(to_id(v))
    names = {}
    for field, ids in wanted.items():
        model = REFERENCES[field][0]
        for obj in session.scalars(select(model).where(model.id.in_(ids))):
            names[(field, obj.id)] = obj.name
    for record_type, (_thing, column) in ADMIN_THINGS.items():
        ids = {e.record_id for e in events if e.record_type == record_type and e.record_id}
        if column is not None and ids:
            model = column.class_
            for rid, name in session.execute(select(model.id, column).where(model.id.in_(ids))):
                names[(record_type, rid)] = name
    pool_ids = {int(e.via.removeprefix("pool:")) for e in events if (e.via or "").startswith("pool:")}
    if pool_ids:
        names |= {("via", f"pool:{pid}"): name for pid, name in session.execute(
            select(Pool.id, Pool.name).where(Pool.id.in_(pool_ids)))}
    rule_ids = {int(e.via.removeprefix("rule:")) for e in events if (e.via or "").startswith("rule:")}
    if rule_ids:
        names |= {("via", f"rule:{rid}"): name for rid, name in session.execute(
            select(AssignmentRule.id, AssignmentRule.name).where(AssignmentRule.id.in_(rule_ids)))}
    gone = wanted.get("status_id", set()) - {i for f, i in names if f == "status_id"}
    if gone:  # a removed status keeps the name its admin "delete" event recorded
        for rid, name in session.execute(select(HistoryEvent.record_id, HistoryEvent.old).where(
                HistoryEvent.record_type == "lead_status", HistoryEvent.kind == "delete",
                HistoryEvent.record_id.in_(gone))):
            names[("status_id", rid)] = f"{name} (removed)"
    return names


def _batches(session: Session, events: list[HistoryEvent]) -> dict[str, Batch]:
    ids = {e.batch_id for e in events if e.batch_id}
    return {b.id: b for b in session.scalars(select(Batch).where(Batch.id.in_(ids)))} if ids else {}


def _record_titles(session: Session, events: list[HistoryEvent]) -> dict:
    titles = {}
    for name, rtype in RECORD_TYPES.items():
        ids = {e.record_id for e in events if e.record_type == name}
        if ids:
            col = getattr(rtype.model, rtype.title_column)
            for rid, title in session.execute(select(rtype.model.id, col).where(rtype.model.id.in_(ids))):
                titles[(name, rid)] = title
    return titles
