"""URL converters: ids in URLs must fit the id columns (INTEGER: 32 bits on PostgreSQL)."""
from werkzeug.routing import IntegerConverter

from crm.params import MAX_ID


class IdConverter(IntegerConverter):
    """`<int:...>` that does not match beyond the largest id a table can hold, so a huge id is a
    404 rather than an overflow error from the database driver (SQLite: 64 bits, PostgreSQL: 32)."""

    def __init__(self, map, fixed_digits=0, min=None, max=MAX_ID, signed=False):
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)
