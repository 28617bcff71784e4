"""The set a mass change touches, and the drawer's preview of it.

The set is a `Selection`: the records matching a filter (`parse_filter`, the one filter builder)
or the ticked ids, ALWAYS intersected with what the viewer may edit, minus the owners the user
left out. The drawer's preview and the execution share `Selection.conditions()`, so the count the
user confirms is the set that changes.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import bindparam, false, func, literal, or_, select
from sqlalchemy.orm import Session

from crm.models import LeadStatus, Pipeline, Stage, User
from crm.services.bulk.fingerprint import set_fingerprint
from crm.services.filters import Filter, conditions
from crm.services.record_types import RecordType


@dataclass(frozen=True)
class Selection:
    """Records a mass change touches: filter ∩ (ticked ids, unless "all matching") ∩ editable − skipped owners."""

    rtype: RecordType
    flt: Filter
    viewer: User
    ids: tuple[int, ...] | None = None  # None: every record matching the filter
    skip_owners: frozenset[int] = frozenset()  # 0 = records without an owner

    @classmethod
    def build(cls, rtype: RecordType, flt: Filter, viewer: User, *, select_all: bool,
              skip_owners: frozenset[int] = frozenset()) -> "Selection":
        ids = None if select_all else tuple(flt.ids or ())
        return cls(rtype, flt.without("ids"), viewer, ids, skip_owners)

    @property
    def noun(self) -> str:
        return self.rtype.plural

    def base_conditions(self) -> list:
        """The set before owners are left out (the owner breakdown lists every owner of it)."""
        model = self.rtype.model
        where = conditions(self.rtype, self.flt, self.viewer, for_edit=True)
        if self.ids is not None:
            # Rendered inline: thousands of ids (a map lasso) exceed SQLite's and psycopg's bind limits.
            where.append(model.id.in_(_literal_ids(self.ids)) if self.ids else false())
        return where

    def conditions(self) -> list:
        return self.base_conditions() + _skip_owners(self.rtype.model.owner_id, self.skip_owners)


def _literal_ids(ids: tuple[int, ...]):
    return bindparam("bulk_ids", [int(i) for i in ids], expanding=True, literal_execute=True)


def _skip_owners(column, skip: frozenset[int]) -> list:
    real = sorted(i for i in skip if i)
    where = [or_(column.is_(None), column.not_in(real))] if real else []
    if 0 in skip:
        where.append(column.is_not(None))
    return where
@dataclass
class OwnerRow:
    owner_id: int  # 0 = no owner
    name: str
    count: int
    skipped: bool


@dataclass
class Preview:
    total: int  # records the action touches
    by_owner: list[OwnerRow]
    by_stage: list[tuple[str, int]]
    ignored: list[int] = field(default_factory=list)  # ticked ids left out (not editable / gone / no match)
    requested: int | None = None
    pinned: str = ""  # the set's fingerprint: the confirmation sends it back (fingerprint.py)

    @property
    def owner_phrase(self) -> str:
        kept = [r for r in self.by_owner if not r.skipped and r.count]
        if len(kept) != 1:
            return "from any owner"
        return f"from {kept[0].name}" if kept[0].owner_id else "without an owner"


def preview(session: Session, sel: Selection) -> Preview:
    """Count and breakdowns of the set, with the ticked ids that were left out."""
    model = sel.rtype.model
    rows = session.execute(select(model.owner_id, func.count()).where(*sel.base_conditions())
                           .group_by(model.owner_id)).all()
    names = dict(session.execute(select(User.id, User.name).where(User.id.in_([o for o, _ in rows if o]))).all())
    by_owner = sorted((OwnerRow(o or 0, names.get(o, "No owner") if o else "No owner", n, (o or 0) in sel.skip_owners)
                       for o, n in rows), key=lambda r: (-r.count, r.name))
    total = sum(r.count for r in by_owner if not r.skipped)
    return Preview(total, by_owner, _by_stage(session, sel), ignored_ids(session, sel),
                   len(sel.ids) if sel.ids is not None else None,
                   set_fingerprint(session, model.id, *sel.conditions()))


def _by_stage(session: Session, sel: Selection) -> list[tuple[str, int]]:
    model, position = sel.rtype.model, sel.rtype.position_field
    source = position.choices if position else None
    if source == "stage":
        label = Pipeline.name + literal(": ") + Stage.name
        stmt = (select(label, func.count()).select_from(model).join(Stage, Stage.id == model.stage_id)
                .join(Pipeline, Pipeline.id == Stage.pipeline_id)
                .group_by(Pipeline.position, Pipeline.name, Stage.position, Stage.name)
                .order_by(Pipeline.position, Stage.position))
    elif source == "lead_status":
        label = func.coalesce(LeadStatus.name, "No status")
        stmt = (select(label, func.count()).select_from(model)
                .outerjoin(LeadStatus, LeadStatus.id == model.status_id)
                .group_by(LeadStatus.position, LeadStatus.name).order_by(LeadStatus.position))
    else:
        return []
    return [(lbl, n) for lbl, n in session.execute(stmt.where(*sel.conditions())).all()]


def ignored_ids(session: Session, sel: Selection) -> list[int]:
    """Ticked ids outside the set: not the viewer's to change, deleted, or no longer matching the filter."""
    if not sel.ids:
        return []
    found = set(session.scalars(select(sel.rtype.model.id).where(*sel.base_conditions())))
    return [i for i in sel.ids if i not in found]
