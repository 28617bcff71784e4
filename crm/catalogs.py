"""Message catalogs: extract the strings to translate, update the .po files, compile the .mo files.

    python -m crm.catalogs update    # `make translations`: messages.pot and every <lang>.po
    python -m crm.catalogs compile   # `make setup` and the test setup: .mo files that are stale

The files are written in a stable form (sorted by message, fixed dates, file names without line
numbers, no wrapping, no obsolete entries), so two people who translate or add strings at the
same time rarely touch the same lines. The catalog check (tests/test_catalogs.py) uses `extract`
for a fresh extraction, so a string added without a translation is found before a .pot is made.
"""
import os
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

from crm.i18n import LANGUAGES

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = Path(__file__).resolve().parent / "translations"
TEMPLATE = TRANSLATIONS / "messages.pot"
TRANSLATED = tuple(code for code in LANGUAGES if code != "en")  # English is the source language
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "_nl": (1, 2)}
SEARCHED = ("crm", "templates")
STABLE_DATE = datetime(2026, 1, 1, tzinfo=UTC)  # headers keep one date: no conflict on every run
# gettext's usual plural rules rather than CLDR's newest (which add a "many" form for millions in
# es/it/fr): two forms, or one in Persian, whose nouns stay singular after a number.
PLURAL_FORMS = {"es": (2, "(n != 1)"), "it": (2, "(n != 1)"), "sv": (2, "(n != 1)"),
                "fr": (2, "(n > 1)"), "fa": (1, "0")}


def po_path(code: str) -> Path:
    return TRANSLATIONS / code / "LC_MESSAGES" / "messages.po"


def extract() -> Catalog:
    """Every translatable string in crm/**.py and templates/** (babel.cfg), with python-format
    flags and `# TRANSLATORS:` comments."""
    with open(ROOT / "babel.cfg") as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)

    def searched(path: str) -> bool:
        parts = Path(path).relative_to(ROOT).parts
        return parts[0] in SEARCHED and not parts[-1].startswith((".", "_"))

    catalog = Catalog(project="Fieldbook CRM", version="1", charset="utf-8", fuzzy=False,
                      creation_date=STABLE_DATE, revision_date=STABLE_DATE)
    for filename, lineno, message, comments, context in extract_from_dir(
            ROOT, method_map, options_map, keywords=KEYWORDS, comment_tags=("TRANSLATORS:",),
            strip_comment_tags=True, directory_filter=searched):
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return catalog


def read(code: str) -> Catalog:
    with open(po_path(code), "rb") as f:
        return read_po(f, locale=code)


def _write_atomically(path: Path, write) -> None:
    """Readers (other test workers, a running server) see the old file or the new one, whole."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def _write_po(path: Path, catalog: Catalog) -> None:
    _write_atomically(path, lambda f: write_po(
        f, catalog, width=0, sort_output=True, ignore_obsolete=True, include_lineno=False))


def update() -> None:
    """Write messages.pot from a fresh extraction and merge it into every language's .po file
    (new and changed strings empty, removed ones dropped)."""
    template = extract()
    _write_po(TEMPLATE, template)
    for code in TRANSLATED:
        path = po_path(code)
        catalog = read(code) if path.exists() else _new_catalog(code)
        catalog.update(template, no_fuzzy_matching=True)  # a guess is no translation
        catalog.fuzzy = False
        for message in catalog:
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            if message.id and not any(strings):
                message.flags.discard("fuzzy")  # nothing to review yet
        _write_po(path, catalog)


def _new_catalog(code: str) -> Catalog:
    catalog = Catalog(locale=code, project="Fieldbook CRM", version="1", fuzzy=False,
                      creation_date=STABLE_DATE, revision_date=STABLE_DATE,
                      header_comment=f"# {code} translations of Fieldbook CRM.")
    catalog._num_plurals, catalog._plural_expr = PLURAL_FORMS[code]  # no public setter
    return catalog


def compile_catalogs(force: bool = False) -> list[str]:
    """Compile each .po newer than its .mo (fuzzy entries are left out, so they show in English).
    Returns the languages compiled."""
    compiled = []
    for code in TRANSLATED:
        po = po_path(code)
        mo = po.with_suffix(".mo")
        if not po.exists() or (not force and mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime):
            continue
        catalog = read(code)
        _write_atomically(mo, lambda f, c=catalog: write_mo(f, c))
        compiled.append(code)
    return compiled


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else ""
    if command == "update":
        update()
    elif command == "compile":
        compile_catalogs(force="--force" in sys.argv)
    else:
        sys.exit("usage: python -m crm.catalogs update | compile [--force]")
