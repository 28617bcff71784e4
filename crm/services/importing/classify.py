"""What happens to each row: create, update, skip or reject (with the reason), the same in a dry run and a run.

Owners go through the owner service (the rules of the edit form and mass change); matching by
email for the skip and update policies sees only the records the importer may see (update: may
change), through the filter builder's permission rule, so no reason ever names another team's record.
"""
from dataclasses import dataclass, field

from sqlalchemy import func
from sqlalchemy.orm import Session

from crm.i18n import _
from crm.models import User
from crm.models.pools import ImportJob
from crm.services import DomainError, owners
from crm.services.csv_cells import is_formula, neutralize_cell
from crm.services.filters import Filter, filtered_select
from crm.services.importing import choices
from crm.services.importing.values import RowValues
from crm.services.record_types import RECORD_TYPES


@dataclass
class Outcome:
    row: int  # the line in the file
    action: str  # create | update | skip | reject
    cells: list[str]
    values: dict = field(default_factory=dict)
    owner: str = ""  # the owner choice for the row ("user:3", "pool:2"; "" for the import's default)
    existing: int | None = None  # the record an update changes
    reason: str = ""
    formulas: list[int] = field(default_factory=list)  # columns whose formula cell goes in as text


class Classifier:
    """Classifies a file's rows in order; remembers the emails seen so far (duplicates inside the file)."""

    def __init__(self, session: Session, imp: ImportJob, actor: User):
        self.session, self.imp, self.actor = session, imp, actor
        self.value_map = imp.value_map or {}  # what the file's unknown choice values become
        self.rtype = RECORD_TYPES[imp.record_type]
        self.columns = {int(i): f for i, f in imp.mapping.items() if f}
        self.email_column = next((i for i, f in self.columns.items() if f == "email"), None)
        self.values = RowValues(session, self.rtype, actor)
        self.owner_names = owners.choices_by_name(session, self.rtype.name)
        self.refused: dict[str, str | None] = {}  # owner choice -> why the actor may not use it
        self.seen: dict[str, int] = {}  # email -> the first row that has it

    def chunk(self, chunk: list[tuple[int, list[str]]]) -> list[Outcome]:
        existing = self._existing(chunk)
        return [self._duplicates(self.parse(number, cells), existing) for number, cells in chunk]

    def parse(self, number: int, cells: list[str]) -> Outcome:
        """The row's values and owner, or a reject with the reason (matching aside)."""
        outcome = Outcome(number, "create", cells)
        width = len(self.imp.headers)
        if len(cells) != width:
            return _reject(outcome, _("The row has %(cells)s cells but the header has %(width)s.",
                                      cells=len(cells), width=width))
        if any("\ufffd" in c for c in cells):
            return _reject(outcome, _("Some characters are not valid %(encoding)s text; save the file as UTF-8.",
                                      encoding=self.imp.encoding))
        raw: dict[str, str] = {}
        for i, name in self.columns.items():
            value = cells[i].strip()
            if is_formula(value):  # stored as text a spreadsheet will not run (a `'` in front)
                outcome.formulas.append(i)
                value = neutralize_cell(value)
            if value:
                raw[name] = f"{raw[name]} {value}" if name in raw else value
        mapped_owner = choices.apply(self.value_map, raw)
        try:
            outcome.values = self.values.values(raw)
            outcome.owner = self._check_owner(mapped_owner) if mapped_owner else self._owner(raw.get("owner", ""))
        except DomainError as error:
            return _reject(outcome, str(error))
        return outcome

    def remember(self, outcome: Outcome) -> None:
        """Note the row's email as seen (rows before a resumed run's start are only remembered)."""
        email = (outcome.values.get("email") or "").lower()
        if email and outcome.action != "reject":
            self.seen.setdefault(email, outcome.row)

    def _owner(self, text: str) -> str:
        if not text:
            return ""
        key = text.lower()
        if key not in self.owner_names:
            raise DomainError(_("Unknown owner “%(name)s”: use a pool name, or a user's email or name.", name=text))
        choice = self.owner_names[key]
        if choice is None:
            raise DomainError(_("More than one user or pool is called “%(name)s”: use the user's email.", name=text))
        return self._check_owner(choice)

    def _check_owner(self, choice: str) -> str:
        """The choice if the importer may hand records to it (asked once per choice), else DomainError."""
        if choice not in self.refused:
            try:
                owners.check_choice(self.session, choice, self.actor, self.rtype.name)
                self.refused[choice] = None
            except DomainError as error:
                self.refused[choice] = str(error)
        if self.refused[choice]:
            raise DomainError(self.refused[choice])
        return choice

    def _existing(self, chunk: list[tuple[int, list[str]]]) -> dict[str, int]:
        """Email -> the oldest record with it, among those the importer may see (update: change)."""
        if self.email_column is None or self.imp.duplicates == "create":
            return {}
        col = self.email_column
        emails = {cells[col].strip().lower() for _n, cells in chunk if len(cells) > col and cells[col].strip()}
        if not emails:
            return {}
        email = func.lower(self.rtype.model.email)
        stmt = filtered_select(self.rtype, Filter(), self.actor, for_edit=self.imp.duplicates == "update",
                               columns=(email, func.min(self.rtype.model.id)))
        return dict(self.session.execute(stmt.where(email.in_(emails)).group_by(email)).all())

    def _duplicates(self, outcome: Outcome, existing: dict[str, int]) -> Outcome:
        email = (outcome.values.get("email") or "").lower()
        if outcome.action == "reject" or not email:
            return outcome
        policy = self.imp.duplicates
        if email in self.seen and policy != "create":
            outcome.action, outcome.reason = "skip", _("Same email as row %(row)s of this file.",
                                                       row=self.seen[email])
        elif email in existing and policy == "skip":
            outcome.action, outcome.reason = "skip", _("Same email as %(type)s #%(id)s.",
                                                       type=self.rtype.label.lower(), id=existing[email])
        elif email in existing and policy == "update":
            outcome.action, outcome.existing = "update", existing[email]
        self.remember(outcome)
        return outcome


def _reject(outcome: Outcome, reason: str) -> Outcome:
    outcome.action, outcome.reason = "reject", reason
    return outcome
