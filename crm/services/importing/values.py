"""One row's cells checked and converted to column values by the field registry's parsers
(crm/services/field_values.py); the owner a cell names is the classifier's (the owner service)."""
from sqlalchemy.orm import Session

from crm.i18n import _
from crm.models import User
from crm.services import DomainError
from crm.services.field_values import ValueParser
from crm.services.importing.mapping import importable
from crm.services.record_types import RecordType


class RowValues:
    """Converts a row's mapped cells to column values; the lookups it needs are read once per run."""

    def __init__(self, session: Session, rtype: RecordType, actor: User):
        self.session, self.rtype = session, rtype
        self.fields = {f.name: f for f in importable(rtype.name)}
        self.parser = ValueParser(session, actor)  # references: only records the importer may see

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
