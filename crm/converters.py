"""URL converters: ids in URLs must fit the database's 64-bit integers."""
from werkzeug.routing import IntegerConverter

MAX_ID = 2**63 - 1


class IdConverter(IntegerConverter):
    """`<int:...>` that does not match beyond 64 bits, so a huge id is a 404 rather than an
    OverflowError from the database driver."""

    def __init__(self, map, fixed_digits=0, min=None, max=MAX_ID, signed=False):
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)
