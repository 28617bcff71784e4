"""Counted nouns for messages and feed entries ("12,345 leads", "1 lead")."""
from crm.services.record_types import RecordType


def count_phrase(n: int, rtype: RecordType) -> str:
    """'12,345 leads' / '1 lead'."""
    return f"{n:,} {rtype.plural if n != 1 else rtype.label.lower()}"
