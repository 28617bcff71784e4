"""Lead statuses as a configurable table: add, rename / change kind, reorder, remove, each logged.

A status's kind drives the rest of the app: conversion sets the first "converted" status
(`first_status`), new leads from conversions back get the first "open"
one, merges keep the lead that is furthest along. So at least one "open" and one "converted"
status must exist at all times; changes that would leave none are refused.

Removing a status that leads use moves them to a replacement through the bulk engine
(crm/services/bulk.py `run_steps`): one set-based transaction, a history event on every lead under
one batch, one feed entry, Undo from the batch page (which puts the status back first, see
`restore_removed`).
"""
from sqlalchemy import Integer, case, func, insert, literal, select, update
from sqlalchemy.orm import Session

from crm.models import Batch, Lead, LeadStatus, User
from crm.services import DomainError, history
from crm.services.bulk import Change, Outcome, begin_write, run_steps
from crm.services.record_types import record_type
from crm.services.wording import count_phrase

KINDS = ("open", "converted", "lost")
REQUIRED_KINDS = ("open", "converted")  # conversion and new leads need one of each
REMOVE_ACTION = "status_remove"


def first_status(session: Session, kind: str) -> int | None:
    """The first status of a kind ("open" for new leads, "converted" for converted ones)."""
    return session.scalar(ordered().with_only_columns(LeadStatus.id).where(LeadStatus.kind == kind).limit(1))


def ordered():
    """Every status in the order lists, filters and forms show them (ties broken by id)."""
    return select(LeadStatus).order_by(LeadStatus.position, LeadStatus.id)


def usage(session: Session) -> dict[int, int]:
    """Leads per status id, trashed ones included (a removal moves those too)."""
    return dict(session.execute(select(Lead.status_id, func.count()).where(Lead.status_id.is_not(None))
                                .group_by(Lead.status_id)).all())


def add_status(session: Session, actor: User, name: str, kind: str) -> LeadStatus:
    """A new status, last in the order."""
    name = _check_name(session, name, kind)
    position = session.scalar(select(func.coalesce(func.max(LeadStatus.position), 0))) + 1
    status = LeadStatus(name=name, kind=kind, position=position)
    session.add(status)
    session.flush()
    history.log(session, "lead_status", status.id, actor.id, "create", new=status.name)
    return status


def update_status(session: Session, actor: User, status: LeadStatus, name: str, kind: str) -> dict:
    """Rename a status and/or change its kind; returns the logged changes (empty: nothing to do)."""
    name = _check_name(session, name, kind, status)
    if kind != status.kind:
        _keep_required_kind(session, status, f"change the kind of “{status.name}”")
    changes = {f: (getattr(status, f), new) for f, new in (("name", name), ("kind", kind)) if getattr(status, f) != new}
    for field, (_old, new) in changes.items():
        setattr(status, field, new)
    history.log_changes(session, "lead_status", status.id, actor.id, changes)
    return changes


def move_status(session: Session, actor: User, status: LeadStatus, step: int) -> None:
    """Swap a status with its neighbour (step -1: up, +1: down); positions are renumbered 1..n."""
    ids = list(session.scalars(ordered().with_only_columns(LeadStatus.id)))
    here = ids.index(status.id)
    there = here + step
    if not 0 <= there < len(ids):
        raise DomainError(f"“{status.name}” is already {'first' if step < 0 else 'last'}.")
    ids[here], ids[there] = ids[there], ids[here]
    session.execute(update(LeadStatus).values(position=case({i: n for n, i in enumerate(ids, 1)}, value=LeadStatus.id))
                    .execution_options(synchronize_session=False))
    history.log_changes(session, "lead_status", status.id, actor.id, {"position": (here + 1, there + 1)})
    session.expire_all()


def remove_status(session: Session, actor: User, status: LeadStatus, replacement: LeadStatus | None) -> Outcome:
    """Delete a status; the leads that use it (trash included) first move to `replacement`."""
    name = status.name
    _keep_required_kind(session, status, f"remove “{name}”")
    begin_write(session)  # nothing can start using the status between the count and the move
    used = session.scalar(select(func.count()).select_from(Lead).where(Lead.status_id == status.id))
    outcome = Outcome(used, 0, None, f"Removed status “{name}”.")
    if used:
        if replacement is None or replacement.id == status.id:
            raise DomainError(f"{count_phrase(used, record_type('lead'))} use “{name}”: "
                              "choose the status they move to.")
        outcome = _move_leads(session, actor, status, replacement)
    history.log(session, "lead_status", status.id, actor.id, "delete", old=name,
                batch_id=outcome.batch.id if outcome.batch else None)  # with a batch, its entry is the feed's
    session.execute(LeadStatus.__table__.delete().where(LeadStatus.id == status.id))
    session.expire_all()
    return outcome


def _move_leads(session: Session, actor: User, status: LeadStatus, replacement: LeadStatus) -> Outcome:
    rtype = record_type("lead")
    snapshot = {"id": status.id, "name": status.name, "kind": status.kind, "position": status.position}
    target = replacement.name
    change = Change(REMOVE_ACTION, {"status_id": literal(replacement.id, Integer)},
                    phrase=lambda n: f"{count_phrase(n, rtype)} moved to “{target}”",
                    params={"removed_status": snapshot, "status": replacement.id, "label": target})
    return run_steps(session, rtype, actor, [([Lead.status_id == status.id], change)],
                     lead=f"removed status “{status.name}”: ")


def restore_removed(session: Session, batch: Batch, actor: User) -> None:
    """Undo of a removal, first step: the status comes back with its id, name, kind and place."""
    old = batch.params["removed_status"]
    if session.get(LeadStatus, old["id"]) is not None:
        return
    if session.scalar(select(LeadStatus.id).where(func.lower(LeadStatus.name) == old["name"].lower())):
        raise DomainError(f"A status named “{old['name']}” exists again: rename it before undoing.")
    session.execute(update(LeadStatus).where(LeadStatus.position >= old["position"])
                    .values(position=LeadStatus.position + 1).execution_options(synchronize_session=False))
    session.execute(insert(LeadStatus).values(**old))
    history.log(session, "lead_status", old["id"], actor.id, "create", new=old["name"], batch_id=batch.id)


def _check_name(session: Session, name: str, kind: str, status: LeadStatus | None = None) -> str:
    name = (name or "").strip()
    if not name:
        raise DomainError("A status needs a name.")
    if kind not in KINDS:
        raise DomainError("The kind is open, converted or lost.")
    clash = session.scalar(select(LeadStatus.id).where(func.lower(LeadStatus.name) == name.lower()))
    if clash is not None and (status is None or clash != status.id):
        raise DomainError(f"The status “{name}” exists already.")
    return name


def _keep_required_kind(session: Session, status: LeadStatus, doing: str) -> None:
    """Refuse when `status` is the last one of a kind the app needs."""
    if status.kind not in REQUIRED_KINDS:
        return
    others = session.scalar(select(func.count()).select_from(LeadStatus)
                            .where(LeadStatus.kind == status.kind, LeadStatus.id != status.id))
    if not others:
        raise DomainError(f"You cannot {doing}: it is the only {status.kind} status, and leads need one. "
                          f"Add another {status.kind} status first.")
