"""Counted nouns for messages and feed entries ("12,345 leads", "1 lead"), in the reader's language.

One ngettext per record type, so each language inflects each noun its own way (plural rules,
gender); the number is formatted for the language too (12.345, ۱۲٬۳۴۵).
"""
from crm.i18n import ngettext
from crm.services.record_types import RecordType


def count_phrase(n: int, rtype: RecordType) -> str:
    """'12,345 leads' / '1 lead'."""
    if rtype.name == "lead":
        return ngettext("%(num)s lead", "%(num)s leads", n)
    if rtype.name == "deal":
        return ngettext("%(num)s deal", "%(num)s deals", n)
    if rtype.name == "contact":
        return ngettext("%(num)s contact", "%(num)s contacts", n)
    if rtype.name == "organization":
        return ngettext("%(num)s organization", "%(num)s organizations", n)
    return ngettext("%(num)s record", "%(num)s records", n)
