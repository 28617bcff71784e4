"""What a browser sends for a page's form submitted untouched, read from the HTML (stdlib only)."""
from html.parser import HTMLParser

Pairs = list[tuple[str, str]]


class _FormReader(HTMLParser):
    """Every POST form's successful controls, in document order."""

    def __init__(self):
        super().__init__()
        self.forms: list[Pairs] = []
        self._form: Pairs | None = None
        self._select: str | None = None
        self._options: list[tuple[str, bool]] = []
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and (a.get("method") or "").lower() == "post":
            self._form = []
            self.forms.append(self._form)
        if self._form is None or "disabled" in a:
            return
        if tag == "input" and a.get("name") and a.get("type") not in ("submit", "button"):
            if a.get("type") not in ("checkbox", "radio") or "checked" in a:
                self._form.append((a["name"], a.get("value") or ("on" if a.get("type") == "checkbox" else "")))
        elif tag == "select" and a.get("name"):
            self._select, self._options = a["name"], []
        elif tag == "option" and self._select is not None:
            self._options.append((a.get("value") or "", "selected" in a))
        elif tag == "textarea" and a.get("name"):
            self._textarea, self._text = a["name"], ""

    def handle_data(self, data):
        if self._textarea is not None:
            self._text += data

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select" and self._select is not None:
            chosen = [v for v, selected in self._options if selected] or [v for v, _ in self._options[:1]]
            self._form += [(self._select, v) for v in chosen]
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            text = self._text[2:] if self._text.startswith("\r\n") else self._text.removeprefix("\n")
            self._form.append((self._textarea, text))  # browsers drop the newline after <textarea>
            self._textarea = None


def untouched_form(html: str, field: str) -> Pairs:
    """The (name, value) pairs of the page's POST form that has `field`, as the browser sends it."""
    reader = _FormReader()
    reader.feed(html)
    return next(f for f in reader.forms if any(name == field for name, _ in f))
