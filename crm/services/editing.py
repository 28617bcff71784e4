"""Creating, changing, trashing and restoring single records, each change written to history."""
from sqlalchemy.orm import Session

from crm.models import Lead, User
from crm.models.mixins import utcnow
from crm.services import DomainError
from crm.services import history, scoring
from crm.services.field_values import default_values
from crm.services.permissions import require_edit
from crm.services.record_types import RecordType, record_type_of
from crm.services.territories import territory_values


def new_record_defaults(session: Session, rtype: RecordType) -> dict:
    """What a new record gets when nothing says otherwise: a lead starts in the first open status."""
    return default_values(session, rtype.fields)


def create_record(session: Session, rtype: RecordType, values: dict, actor: User | None,
                  *, batch_id: str | None = None, owner_via: str | None = None):
    """Insert a record and log its creation; an owner a pool chose (`owner_via` "pool:2") is logged too."""
    values = territory_values(session, values)
    values |= {k: v for k, v in new_record_defaults(session, rtype).items() if values.get(k) is None}
    record = rtype.model(**_with_team(session, values))
    if actor is not None and record.owner_id is None and "owner_id" not in values:
        record.owner_id, record.team_id = actor.id, actor.team_id
    session.add(record)
    session.flush()
    actor_id = actor.id if actor else None
    history.log(session, rtype.name, record.id, actor_id, "create", batch_id=batch_id)
    if owner_via and record.owner_id:
        history.log(session, rtype.name, record.id, actor_id, "update", field="owner_id", new=record.owner_id,
                    batch_id=batch_id, via=owner_via)
    if isinstance(record, Lead):
        scoring.rescore_record(session, record)
    return record


def require_changeable(actor: User, record) -> None:
    """The actor may edit the record and it is out of the trash (PermissionDenied / DomainError)."""
    require_edit(actor, record)
    if record.deleted_at is not None:
        raise DomainError("This record is in the trash: restore it before changing it.")


def update_record(session: Session, record, values: dict, actor: User,
                  *, batch_id: str | None = None, owner_via: str | None = None) -> dict[str, tuple]:
    """Apply the values that differ, log one event per changed field (a new owner with the pool
    that chose them, `owner_via`), return the changes."""
    require_changeable(actor, record)
    changes = diff(record, _with_team(session, territory_values(session, values, record)))
    for name, (_old, new) in changes.items():
        if name.startswith("custom."):
            record.custom = {**(record.custom or {}), name.removeprefix("custom."): new}
        else:
            setattr(record, name, new)
    if changes:
        session.flush()
        history.log_changes(session, record_type_of(record).name, record.id, actor.id, changes,
                            batch_id=batch_id, owner_via=owner_via)
        if isinstance(record, Lead):
            scoring.rescore_record(session, record)
    return changes


def diff(record, values: dict) -> dict[str, tuple]:
    changes: dict[str, tuple] = {}
    for name, new in values.items():
        if name == "custom":
            current = record.custom or {}
            changes |= {f"custom.{k}": (current.get(k), v) for k, v in new.items()
                        if _normal(current.get(k)) != _normal(v)}
        elif _normal(getattr(record, name)) != _normal(new):
            changes[name] = (getattr(record, name), new)
    return changes


def _normal(value):
    if value in ("", None):
        return None
    if hasattr(value, "normalize"):  # Decimal("10.00") equals 10
        return float(value)
    return value


def _with_team(session: Session, values: dict) -> dict:
    """A record's team follows its owner, so the owner's team can see it."""
    if "owner_id" in values and "team_id" not in values:
        owner = session.get(User, values["owner_id"]) if values["owner_id"] else None
        return {**values, "team_id": owner.team_id if owner else None}
    return values


def trash_record(session: Session, record, actor: User, *, batch_id: str | None = None) -> None:
    require_edit(actor, record)
    if record.deleted_at is None:
        record.deleted_at, record.deleted_batch_id = utcnow(), batch_id
        history.log(session, record_type_of(record).name, record.id, actor.id, "delete",
                    batch_id=batch_id)


def restore_record(session: Session, record, actor: User, *, batch_id: str | None = None) -> None:
    require_edit(actor, record)
    if record.deleted_at is not None:
        record.deleted_at, record.deleted_batch_id = None, None
        history.log(session, record_type_of(record).name, record.id, actor.id, "restore",
                    batch_id=batch_id)
