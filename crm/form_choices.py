"""Choices for WTForms select, radio and multi-select fields.

The services hand out options as plain (value, label) pairs (e.g. owners.owner_choices); the forms
turn them into `SelectChoice` here, in one place. WTForms 3.3 deprecates tuple choices and the
dict-of-lists optgroup form (both go away in 3.4): an optgroup is a `SelectChoice(optgroup=...)`
in one flat list. A field's `choices` are then SelectChoice objects, not pairs: ask
`choice_values` which values it offers rather than calling `dict()` on them.

`FormView` hands an edit form the current choice values of an object (see its docstring).
"""
from collections.abc import Iterable

from wtforms.fields.choices import SelectChoice

Pairs = Iterable[tuple[str, str]]


def select_choices(pairs: Pairs, *, blank: str | None = None, optgroup: str | None = None) -> list[SelectChoice]:
    """The options for (value, label) pairs; `blank` labels a leading empty option ("" value)."""
    head = [SelectChoice("", blank)] if blank is not None else []
    return head + [SelectChoice(value, label, optgroup=optgroup) for value, label in pairs]


def grouped_choices(groups: Iterable[tuple[str, Pairs]]) -> list[SelectChoice]:
    """The options for (optgroup label, pairs) groups, rendered as one <optgroup> each."""
    return [choice for name, pairs in groups for choice in select_choices(pairs, optgroup=name)]


def choice_values(choices: Iterable[SelectChoice] | None) -> list[str]:
    """The values a field offers, in order."""
    return [choice.value for choice in choices or ()]


class FormView:
    """An object as its edit form reads it: the given overrides (choice values such as a team's
    id as a string), everything else straight from the object. WTForms prefers `obj` attributes
    to `data`, so a select named like a relationship (`team`, `owner`) would read the related
    object, match no option and be saved empty: the overrides must live on the object itself."""

    def __init__(self, obj, overrides: dict):
        self._obj, self._overrides = obj, overrides

    def __getattr__(self, name: str):
        if name in self._overrides:
            return self._overrides[name]
        return getattr(self._obj, name)
