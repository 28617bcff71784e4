"""Finding similar records: normalized email and phone, company email domain, close names.

`matching` is pure (normalization, signatures, the evidence a pair shares, blocking); `candidates`
asks the database for a small superset of candidates and lets `matching` decide.
"""
from crm.services.duplicates.candidates import duplicate_groups, find_similar, forget_groups
from crm.services.duplicates.matching import (
    Group, Match, Reason, Signature, company_domain, compare, display_phone, normalize_email,
    normalize_name, normalize_phone, signature,
)

__all__ = [
    "Group", "Match", "Reason", "Signature", "company_domain", "compare", "display_phone",
    "duplicate_groups", "find_similar", "forget_groups", "normalize_email", "normalize_name",
    "normalize_phone", "signature",
]
