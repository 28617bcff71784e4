"""The list's sort order, from the field registry: a column sorts by its value, a reference or a
choice by what the user reads in the cell (an owner's name, a status in pipeline order)."""
from sqlalchemy import Select
from sqlalchemy.orm import aliased

from crm.services.record_types import RecordType

DEFAULT_SORT = "-created_at"


def sorted_select(stmt: Select, rtype: RecordType, raw: str) -> tuple[str, Select]:
    """The sort key actually used (an unknown one falls back to the newest first) and the ordered
    SELECT. Ties go by id in the same direction, so one (column, id) index serves the order both
    ways; records without the related value (no owner) come last going up, first going down."""
    name = raw.lstrip("-")
    if name not in rtype.sortable:
        raw, name = DEFAULT_SORT, DEFAULT_SORT.lstrip("-")
    descending, field, ident = raw.startswith("-"), rtype.field(name), rtype.model.id
    if field.sort_by:
        relation = getattr(rtype.model, field.relation)
        target = aliased(relation.property.mapper.class_)
        column = getattr(target, field.sort_by)
        stmt = stmt.outerjoin(target, relation.of_type(target))
        key = column.desc().nulls_first() if descending else column.asc().nulls_last()
        return raw, stmt.order_by(key, ident.desc() if descending else ident.asc())
    column = getattr(rtype.model, field.attr)
    return raw, stmt.order_by(*((column.desc(), ident.desc()) if descending else (column.asc(), ident.asc())))
