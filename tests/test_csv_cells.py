"""CSV cells: every way a spreadsheet could start a formula is neutralized; data stays as it is."""
import pytest

from crm.services.csv_cells import SPACES, is_formula, neutralize_cell

TRIGGERS = ["=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠", "|"]
LEADS = ["", " ", "   ", "\u00a0", " \u00a0 ", "\u2007", "\u202f", "\u3000"]


@pytest.mark.parametrize("lead", LEADS, ids=repr)
@pytest.mark.parametrize("trigger", TRIGGERS, ids=repr)
def test_a_cell_starting_with_a_trigger_even_after_spaces_gets_a_quote(trigger, lead):
    cell = f"{lead}{trigger}cmd|' /C calc'!A0"
    assert neutralize_cell(cell) == "'" + cell


@pytest.mark.parametrize("cell", ["=HYPERLINK(\"http://x\",\"click\")", "+1+1", "-2+3+cmd|' /C calc'!A0",
                                  "@SUM(1+1)*cmd|' /C calc'!A0", "\t=1", "\r\n=1", " =1", "\u00a0@SUM(A1)",
                                  "＝1+1", "|calc", "-", "+46 70 123 45 67"])
def test_known_payloads_are_neutralized(cell):
    assert neutralize_cell(cell).startswith("'") and neutralize_cell(cell)[1:] == cell


@pytest.mark.parametrize("cell", ["Acme AB", "eva@acme.com", "12.50", "", " x", "a=b", "Anna - Sales", "'=already"])
def test_ordinary_cells_are_left_alone(cell):
    assert neutralize_cell(cell) == cell


def test_none_and_numbers_become_text():
    assert (neutralize_cell(None), neutralize_cell(12), neutralize_cell(-3)) == ("", "12", "'-3")


def test_the_spaces_are_every_unicode_space_separator():
    import sys
    import unicodedata
    separators = {c for c in map(chr, range(sys.maxunicode + 1)) if unicodedata.category(c) == "Zs"}
    assert separators <= set(SPACES)


@pytest.mark.parametrize("cell", ["=HYPERLINK(\"http://x\",\"click\")", " =1+1", "＝SUM(A1)", "+HYPERLINK(\"x\")",
                                  "@SUM(A1)", "-2+3+cmd|' /C calc'!A0", "\t=1", "=cmd|' /C calc'!A0"])
def test_formulas_in_a_file_are_recognised(cell):
    assert is_formula(cell)


@pytest.mark.parametrize("cell", ["+46 70 123 45 67", "+1 (555) 123-4567", "-12.5", "- Lead from the fair (Berlin)",
                                  "@acme on social", "Acme = best", "Sales | North", ""])
def test_phone_numbers_and_dashes_are_data_not_formulas(cell):
    assert not is_formula(cell)
