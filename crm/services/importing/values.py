"""One row's cells checked and converted to column values by the field registry's parsers
(crm/services/field_values.py), and the owner a cell names."""
from sqlalchemy import select
from sqlalchemy.orm import Session

from crm.i18n import _
from crm.models import User
from crm.models.pools import Pool
from crm.services import DomainError
from crm.services.field_values import ValueParser
from crm.services.importing.mapping import importable
from crm.services.record_types import RecordType


class RowValues:
    """Converts a row's mapped cells to column values; the lookups it needs are read once per run."""

    def __init__(self, session: Session, rtype: RecordType):
        self.session, self.rtype = session, rtype
        self.fields = {f.name: f for f in importable(rtype.name)}
        self.parser = ValueParser(session, None)
        self.owners: dict[str, str] = {}
        for u in session.scalars(select(User)):
            for key in (u.email.lower(), u.name.lower()):
                self.owners[key] = f"user:{u.id}" if u.active else f"inactive:{u.name}"
        for p in session.scalars(select(Pool).where(Pool.record_type == rtype.name)):
            self.owners[p.name.lower()] = f"pool:{p.id}" if p.active else f"off:{p.name}"

    def owner(self, text: str) -> str:
        """The owner choice ("user:3", "pool:2") a cell names, or "" for an empty cell."""
        if not text:
            return ""
        choice = self.owners.get(text.lower())
        if choice is None:
            raise DomainError(_("Unknown owner “%(name)s”: use a pool name, or a user's email or name.", name=text))
        if choice.startswith("inactive:"):
            raise DomainError(_("%(name)s is inactive and cannot own records.", name=text))
        if choice.startswith("off:"):
            raise DomainError(_("The pool %(name)s is switched off.", name=text))
        return choice

    def values(self, raw: dict[str, str]) -> dict:
        """Column values for a row's cells by field; DomainError names the first cell that does not fit."""
        values = self.parser.values(self.fields, {k: v for k, v in raw.items() if k != "owner"})
        title = self.rtype.fields[0]
        if not values.get(title.attr):
            values[title.attr] = next((values[f] for f in title.fallback if values.get(f)), "")
        if not values.get(title.attr):
            raise DomainError(_("The row has no %(field)s: map a column to %(label)s or fill it in.",
                                field=str(title.label).lower(), label=title.label))
        return values
