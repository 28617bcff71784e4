"""What the merge panel shows: one row per field, one cell per record, the default picks."""
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm.models import Role, Team, User
from crm.services import merge
from crm.services.owners import may_leave_ownerless, owner_choices
from crm.services.record_types import RecordType

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
    survivor: object  # the record kept: the suggested one, or the one the user picked
    rows: list[Row]
    blank: list[str]  # labels of fields empty in every record (no row for them)
    owners: list[tuple[str, str]] = field(default_factory=list)
    teams: list[tuple[int, str]] = field(default_factory=list)
    ownerless: bool = False  # "No owner" is offered only to those the merge lets leave it ownerless

    @property
    def suggested(self):
        return self.records[0]

    @property
    def ids(self) -> str:
        return ",".join(str(r.id) for r in self.records)


def build_panel(session: Session, rtype: RecordType, records: list, viewer: User, survivor_id=None) -> Panel:
    """The panel for records already checked and ranked by `merge.ranked`; the defaults follow the
    kept record (`survivor_id`, else the suggested one)."""
    survivor = next((r for r in records if str(r.id) == str(survivor_id)), records[0])
    fields = merge.fields_for(session, rtype)
    defaults = merge.default_choices(records, fields, survivor)
    rows, blank = [], []
    for f in fields:
        cells = [_cell(r, f) for r in records]
        if all(c.empty for c in cells):
            blank.append(f.label)
        else:
            rows.append(Row(f.name, f.label, f.strategy, cells, defaults.get(f.name, "")))
    return Panel(rtype, records, survivor, rows, blank, _owners(session, records, viewer),
                 _teams(session, records, viewer), may_leave_ownerless(viewer))


def _cell(record, row: merge.MergeField) -> Cell:
    text = merge.row_text(record, row)
    return Cell(record, text, not text)


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
