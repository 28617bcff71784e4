"""The merge panel's rows, derived from the field registry: which columns travel together, how
values combine (pick one record's, unite the tags, join the texts), and the default picks."""
from dataclasses import dataclass

from sqlalchemy.orm import Session

from crm.models import Deal
from crm.services import DomainError
from crm.services.field_values import text_value
from crm.services.fields import CONCAT, PICK, UNITE, Field, Kind, merge_fields
from crm.services.record_types import RecordType

__all__ = ["CONCAT", "PICK", "UNITE", "MergeField", "default_choices", "field_value", "fields_for", "is_empty",
           "losing_values", "merged_values", "row_text", "survivor_key"]


@dataclass(frozen=True)
class MergeField:
    """One row of the merge panel: a field, or a group of fields merged as one (the address)."""

    name: str
    label: object
    fields: tuple[Field, ...]

    @property
    def strategy(self) -> str:
        return self.fields[0].merge

    @property
    def cols(self) -> tuple[str, ...]:
        return tuple(c for f in self.fields for c in (f.attr, *f.companions))

    @property
    def custom_key(self) -> str:
        return self.fields[0].custom_key


def fields_for(session: Session, rtype: RecordType) -> list[MergeField]:
    """The panel's rows: the registry's merged fields (custom fields too), a group as one row."""
    rows: list[MergeField] = []
    for f in merge_fields(session, rtype):
        if f.group and rows and rows[-1].name == f.group:
            rows[-1] = MergeField(f.group, rows[-1].label, (*rows[-1].fields, f))
        else:
            rows.append(MergeField(f.group or f.name, f.label, (f,)))
    return rows


def field_value(record, row: MergeField):
    """The value(s) a record holds for a panel row (a tuple for a group or a stage and its pipeline)."""
    if row.custom_key:
        return (record.custom or {}).get(row.custom_key)
    if len(row.fields) > 1 and all(is_empty(f.value(record)) for f in row.fields if f.kind != Kind.GEO):
        return None  # coordinates alone are no address to choose
    values = tuple(getattr(record, c) for c in row.cols)
    return values if len(values) > 1 else values[0]


def row_text(record, row: MergeField) -> str:
    """A record's value for a panel row as people read it ("" when empty; an address in one line)."""
    if is_empty(field_value(record, row)):
        return ""
    first = row.fields[0]
    if len(row.fields) == 1 or first.kind == Kind.MONEY:
        return text_value(first, record)
    parts = (text_value(f, record) for f in row.fields if f.kind != Kind.GEO)
    return ", ".join(p for p in parts if p)


def is_empty(value) -> bool:
    return value is None or value == "" or (isinstance(value, tuple) and all(is_empty(v) for v in value))


def survivor_key(record) -> tuple:
    """Sort key of the survivor ranking (smallest first), Odoo's `_sort_by_confidence_level` as
    issue 12 words it: a deal outranks a lead (merging a lead into a deal gives the deal), then
    the record created first (the oldest gets priority and everything is merged into it).
    """
    return (not isinstance(record, Deal), record.created_at, record.id)


def default_choices(records: list, rows: list[MergeField], survivor) -> dict[str, str]:
    """Per row, the defaults follow the kept record: its value where it has one, else the newest
    non-empty value (most recently updated record first); CONCAT rows with two or more different
    texts default to "concat" (nothing is dropped unless the user picks one text)."""
    newest_first = sorted((r for r in records if r is not survivor),
                          key=lambda r: (r.updated_at or r.created_at, r.created_at, r.id), reverse=True)
    choices = {}
    for row in rows:
        if row.strategy == UNITE:
            continue
        filled = [r for r in (survivor, *newest_first) if not is_empty(field_value(r, row))]
        if row.strategy == CONCAT and len({field_value(r, row).strip() for r in filled}) > 1:
            choices[row.name] = CONCAT
        else:
            choices[row.name] = str((filled[0] if filled else survivor).id)
    return choices


def merged_values(rows: list[MergeField], records: list, chosen: dict[str, str]) -> dict:
    """The survivor's new values: the chosen record's value per PICK row, united tags, joined texts."""
    by_id = {str(r.id): r for r in records}
    values: dict = {"custom": {}}
    for row in rows:
        column = row.cols[0] if row.cols else ""
        if row.strategy == UNITE:
            values[column] = ",".join(_unite_tags([getattr(r, column) for r in records]))
        elif row.strategy == CONCAT and chosen.get(row.name) == CONCAT:
            values[column] = _concat([getattr(r, column) for r in records])
        else:
            source = by_id.get(chosen.get(row.name, ""))
            if source is None:
                raise DomainError(f"Pick the {str(row.label).lower()} from one of the records being merged.")
            if row.custom_key:
                values["custom"][row.custom_key] = field_value(source, row)
            else:
                values |= {c: getattr(source, c) for c in row.cols}
    return values


def losing_values(rows: list[MergeField], records: list, survivor, chosen: dict[str, str]) -> list[tuple]:
    """(record, row, text) for every non-empty value of a merged record that the result does not keep
    (united tags and joined texts keep everything; the survivor's own replaced values are logged as
    its changes)."""
    by_id = {str(r.id): r for r in records}
    lost = []
    for row in rows:
        if row.strategy == UNITE or (row.strategy == CONCAT and chosen.get(row.name) == CONCAT):
            continue
        kept = row_text(by_id[chosen[row.name]], row)
        for record in records:
            text = row_text(record, row)
            if record is not survivor and text and text != kept:
                lost.append((record, row, text))
    return lost


def _unite_tags(texts: list[str | None]) -> list[str]:
    tags: list[str] = []
    for text in texts:
        for tag in (t.strip() for t in (text or "").split(",")):
            if tag and tag.casefold() not in (t.casefold() for t in tags):
                tags.append(tag)
    return tags


def _concat(texts: list[str | None]) -> str:
    unique: list[str] = []
    for text in (t.strip() for t in texts if t and t.strip()):
        if text not in unique:
            unique.append(text)
    return "\n\n".join(unique)
