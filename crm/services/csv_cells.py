"""CSV cells a spreadsheet will not run as formulas: one rule for the import's rejects file and every export.

A spreadsheet reads a cell that starts with `=`, `+`, `-` or `@` as a formula (OWASP "CSV
injection": `=HYPERLINK(...)` leaks data, `=cmd|' /C calc'!A0` runs a program through DDE). It
also gets there through a leading TAB, CR or LF, through spaces or no-break spaces in front, through
the full-width forms `＝＋－＠` that some spreadsheets fold to ASCII, and through `|`. Such a cell
goes out with a `'` in front, which every spreadsheet shows as text.
"""
import re

TRIGGERS = frozenset("=+-@\t\r\n\uff1d\uff0b\uff0d\uff20|")
# Every Unicode space separator (category Zs: space, no-break space, en/em/thin/figure spaces, narrow
# no-break space, ideographic space), and the invisible zero-width space and byte-order mark.
SPACES = (" \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u205f\u3000"
          "\u200b\ufeff")
FULL_WIDTH = str.maketrans("\uff1d\uff0b\uff0d\uff20", "=+-@")
# After a sign, a function call (`+HYPERLINK(`, `@SUM(`) or a DDE link (`-2+cmd|' /C calc'!A0`).
SIGNED_FORMULA = re.compile(r"[+\-@]\s*(?:[A-Za-z_][\w.]*\s*\(|.*[A-Za-z]\w*\s*\|.*!)", re.DOTALL)


def neutralize_cell(value: object) -> str:
    """The cell as text a spreadsheet shows as is: a `'` in front of anything that could start a formula."""
    text = "" if value is None else str(value)
    if text[:1] in TRIGGERS or text.lstrip(SPACES)[:1] in TRIGGERS:
        return "'" + text
    return text


def is_formula(value: str) -> bool:
    """Whether a cell read from a file is a formula (`=...`, or a sign before a call or a DDE link).

    Narrower than `neutralize_cell`: a phone number (`+46 70 …`) or a dash in a note is data.
    """
    text = value.lstrip(SPACES + "\t\r\n").translate(FULL_WIDTH)
    return text.startswith("=") or bool(SIGNED_FORMULA.match(text))
