"""Catalog check: every string is extracted, and translated in every language, with its placeholders.

The strings come from a fresh extraction (crm.catalogs.extract), not from messages.pot, so a string
added without running `make translations` and translating it fails here. Fix a failure with
`make translations`, then translate the empty or fuzzy entries in crm/translations/<lang>/.
"""
import re
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog

from crm import catalogs

TEMPLATES = catalogs.ROOT / "templates"
PLACEHOLDER = re.compile(r"%(?:\([^)]*\))?[-#0 +]*\d*(?:\.\d+)?[sdifrxXeEgGc%]")


@pytest.fixture(scope="module")
def source() -> Catalog:
    return catalogs.extract()


def placeholders(text: str) -> set[str]:
    return {p for p in PLACEHOLDER.findall(text) if p != "%%"}


def _untranslated(source: Catalog, code: str) -> list[str]:
    translated = catalogs.read(code) if catalogs.po_path(code).exists() else Catalog(locale=code)
    missing = []
    for message in source:
        if not message.id:
            continue
        entry = translated.get(message.id, context=message.context)
        strings = [] if entry is None else (
            list(entry.string) if isinstance(entry.string, tuple) else [entry.string])
        if entry is None or entry.fuzzy or not strings or not all(strings):
            missing.append(message.id if isinstance(message.id, str) else message.id[0])
    return missing


@pytest.mark.parametrize("code", catalogs.TRANSLATED)
def test_every_message_is_translated(source, code):
    missing = _untranslated(source, code)
    assert not missing, f"{len(missing)} messages lack a {code} translation, e.g. {missing[:10]}"


@pytest.mark.parametrize("code", catalogs.TRANSLATED)
def test_translations_keep_the_placeholders(code):
    """A translation names the same %(name)s values as its message (a plural form may leave the
    count out, e.g. "un lead"); anything else fails at runtime or shows the wrong value."""
    wrong = []
    for message in catalogs.read(code):
        if not message.id or not message.string or message.fuzzy:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        expected = set().union(*(placeholders(i) for i in ids))
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for string in filter(None, strings):
            found = placeholders(string)
            if found - expected or (len(ids) == 1 and found != expected):
                wrong.append((ids[0], string))
    assert not wrong, f"{code}: placeholders differ: {wrong[:5]}"


# Template text that is not a message: markup, Jinja, entities, symbols, the product's name.
_JINJA_BLOCKS = re.compile(r"{%-?\s*(trans|pluralize)\b.*?{%-?\s*endtrans\s*-?%}|{#.*?#}|{{.*?}}|{%.*?%}",
                           re.S)
_RAW = re.compile(r"<(script|style)\b.*?</\1>", re.S | re.I)
_TAG = re.compile(r"<[^>]*>", re.S)
_ENTITY = re.compile(r"&[#\w]+;")
_VISIBLE_ATTRIBUTE = re.compile(r"""\b(?:placeholder|title|aria-label|alt)\s*=\s*(["'])(.*?)\1""", re.S)
_WORD = re.compile(r"[^\W\d_]{2,}")
_ENGLISH_LITERAL = re.compile(r"""(?<!\w)(["'])([A-Z][a-z]+(?: [\w’'-]+)+[.!?…]?)\1""")
_ALLOWED = {"Fieldbook CRM"}


def _escaped_text(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    found = []
    for literal in _ENGLISH_LITERAL.finditer(" ".join(m.group(0) for m in re.finditer(r"{{.*?}}|{%.*?%}", text, re.S))):
        start = literal.string[:literal.start()]
        if not re.search(r"(?:_|gettext|ngettext)\(\s*$", start):
            found.append(literal.group(2))
    outside = _RAW.sub(" ", _JINJA_BLOCKS.sub(" ", text))
    for attribute in _VISIBLE_ATTRIBUTE.finditer(outside):
        if _WORD.search(attribute.group(2)):
            found.append(attribute.group(2).strip())
    for chunk in _TAG.sub("\n", outside).split("\n"):
        chunk = _ENTITY.sub(" ", chunk).strip()
        if _WORD.search(chunk):
            found.append(chunk)
    return [f for f in found if f not in _ALLOWED]


def test_no_template_text_escapes_extraction():
    """Visible words in templates are inside {{ _() }} or {% trans %} (a heuristic: text nodes,
    placeholder/title/aria-label/alt attributes, and capitalised phrases in Jinja expressions)."""
    escaped = {str(p.relative_to(TEMPLATES)): found for p in sorted(TEMPLATES.rglob("*.html"))
               if (found := _escaped_text(p))}
    report = "\n".join(f"{name}: {found[:4]}" for name, found in escaped.items())
    assert not escaped, f"{sum(map(len, escaped.values()))} untranslated strings:\n{report}"


def test_the_check_finds_english_outside_gettext(tmp_path):
    """The heuristic itself: it sees a text node, an attribute and a bare literal, and lets
    translated text, markup and expressions pass."""
    page = tmp_path / "page.html"
    page.write_text('<p>Change owner</p><input placeholder="Search leads">'
                    '{{ field("Close date") }}<b>{{ _("Change status") }}</b>'
                    '{% trans n=3 %}Delete {{ n }} records{% endtrans %}<i class="x">·</i>'
                    '{{ x|number }} &times; <a href="{{ url_for(\'leads.index\') }}">{{ _("Back") }}</a>')
    assert _escaped_text(page) == ["Close date", "Search leads", "Change owner"]
