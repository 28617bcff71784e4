"""What the merge panel shows: one row per field, one cell per record, the default picks."""
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm.models import Contact, CustomField, LeadStatus, Organization, Role, Stage, Team, User
from crm.services import merge
from crm.services.owners import owner_choices
from crm.services.record_types import RecordType

NAMES = {"status_id": LeadStatus, "organization_id": Organization, "contact_id": Contact}


@dataclass
class Cell:
    record: object
    text: str
    empty: bool


@dataclass
class Row:
    name: str
    label: str
    strategy: str
    cells: list[Cell]
    choice: str = ""  # the record id (or "concat") picked by default

    @property
    def conflict(self) -> bool:
        return len({c.text for c in self.cells if not c.empty}) > 1

    @property
    def choosable(self) -> bool:
        """A radio per cell only where the records disagree (tags are always united)."""
        return self.strategy != merge.UNITE and len({c.text for c in self.cells}) > 1


@dataclass
class Panel:
    rtype: RecordType
    records: list  # best survivor first
    rows: list[Row]
    blank: list[str]  # labels of fields empty in every record (no row for them)
    owners: list[tuple[str, str]] = field(default_factory=list)
    teams: list[tuple[int, str]] = field(default_factory=list)

    @property
    def survivor(self):
        return self.records[0]

    @property
    def ids(self) -> str:
        return ",".join(str(r.id) for r in self.records)


def build_panel(session: Session, rtype: RecordType, records: list, viewer: User) -> Panel:
    """The panel for records already checked and ranked by `merge.ranked`."""
    fields = merge.fields_for(session, rtype)
    kinds = {f"custom.{cf.key}": cf.kind for cf in session.scalars(
        select(CustomField).where(CustomField.record_type == rtype.name))}
    defaults = merge.default_choices(records, fields, records[0])
    rows, blank = [], []
    for f in fields:
        cells = [_cell(session, r, f, kinds.get(f.name)) for r in records]
        if all(c.empty for c in cells):
            blank.append(f.label)
        else:
            rows.append(Row(f.name, f.label, f.strategy, cells, defaults.get(f.name, "")))
    return Panel(rtype, records, rows, blank, _owners(session, records, viewer), _teams(session, records, viewer))


def _cell(session: Session, record, f: merge.MergeField, kind: str | None) -> Cell:
    value = merge.field_value(record, f)
    if merge.is_empty(value):
        return Cell(record, "", True)
    return Cell(record, _text(session, f, value, kind), False)


def _text(session: Session, f: merge.MergeField, value, kind: str | None) -> str:
    if kind == "checkbox":
        return "yes" if value else "no"
    if f.name in NAMES:
        target = session.get(NAMES[f.name], value)
        return target.name if target else f"#{value}"
    if f.name == "stage":
        stage = session.get(Stage, value[1])
        return str(stage) if stage else ""
    if f.name == "place":
        return ", ".join(v for v in value[:3] if v)
    if f.name == "value" and isinstance(value, tuple):
        amount, currency = value
        return f"{currency} {amount:,.2f}" if amount is not None else ""
    if isinstance(value, Decimal):
        return f"{value:,.2f}"
    if f.name == "tags":
        return ", ".join(t.strip() for t in value.split(",") if t.strip())
    return str(value)


def _owners(session: Session, records: list, viewer: User) -> list[tuple[str, str]]:
    choices = owner_choices(session, viewer, records[0].__tablename__)
    known = dict(choices)
    for record in records:
        if record.owner_id and f"user:{record.owner_id}" not in known:
            user = session.get(User, record.owner_id)
            choices.append((f"user:{user.id}", user.name))
            known[f"user:{user.id}"] = user.name
    return choices


def _teams(session: Session, records: list, viewer: User) -> list[tuple[int, str]]:
    stmt = select(Team.id, Team.name).order_by(Team.name)
    if viewer.role != Role.ADMIN:
        stmt = stmt.where(Team.id.in_(merge.allowed_teams(records, viewer)))
    return [tuple(row) for row in session.execute(stmt)]
