"""Template filters: money as people write it (English here; other languages in test_formatting)."""
from decimal import Decimal

import pytest

from crm.formatting import money


@pytest.mark.parametrize("value, currency, text", [
    (Decimal("12345.50"), "EUR", "€12,345.50"), (Decimal("12345"), "EUR", "€12,345"), (0, "USD", "$0"),
    (None, "EUR", ""), (Decimal("99.99"), "NOK", "NOK\xa099.99"),
])
def test_money_keeps_cents_only_when_there_are_some(value, currency, text):
    assert money(value, currency) == text
