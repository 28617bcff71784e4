"""Which columns each record list shows; the cell markup lives in templates/records/_cells.html."""
from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    sort: str | None = None


COLUMNS = {
    "lead": (Column("title", "Lead", "title"), Column("person", "Contact", "person_name"),
             Column("status", "Status"), Column("owner", "Owner"), Column("city", "City", "city"),
             Column("value", "Value", "value"), Column("created", "Created", "created_at")),
    "deal": (Column("title", "Deal", "title"), Column("organization", "Organization"),
             Column("stage", "Stage"), Column("owner", "Owner"), Column("value", "Value", "value"),
             Column("expected_close", "Expected close", "expected_close")),
    "contact": (Column("name", "Name", "name"), Column("organization", "Organization"),
                Column("email", "Email", "email"), Column("phone", "Phone"),
                Column("owner", "Owner"), Column("city", "City", "city")),
    "organization": (Column("name", "Name", "name"), Column("city", "City", "city"),
                     Column("phone", "Phone"), Column("website", "Website"), Column("owner", "Owner")),
}
