"""Select, radio and multi-select options are SelectChoice objects (WTForms 3.4 drops tuple choices).

Choices assigned per request (form.owner.choices = ...) raise no DeprecationWarning in WTForms 3.3,
so the pytest filter `error::DeprecationWarning:wtforms.*` cannot guard them: these tests do.
"""
import pytest
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice, SelectFieldBase

from crm.admin.forms import CustomFieldForm, LeadStatusForm, UserForm
from crm.capture.forms import CaptureSettingsForm
from crm.extensions import db
from crm.form_choices import choice_values, grouped_choices, select_choices
from crm.map.forms import build_territory_form
from crm.models import CustomField, Lead, Territory
from crm.pipeline.forms import build_convert_form
from crm.records.forms import build_form
from crm.services.record_types import RECORD_TYPES
from tests.conftest import user


def test_pairs_become_options_with_an_optional_blank_first():
    choices = select_choices([("user:1", "Ana")], blank="No owner")
    assert choices == [SelectChoice("", "No owner"), SelectChoice("user:1", "Ana")]
    assert choice_values(choices) == ["", "user:1"] and choice_values(None) == []


def test_groups_become_optgroups_in_one_flat_list_and_empty_groups_vanish():
    choices = grouped_choices([("Sales", [("1", "New"), ("2", "Won")]), ("Empty", []), ("Renewals", [("3", "Due")])])
    assert [(c.value, c.label, c.optgroup) for c in choices] == [
        ("1", "New", "Sales"), ("2", "Won", "Sales"), ("3", "Due", "Renewals")]


def _select_fields(form):
    return [f for f in form if isinstance(f, SelectFieldBase)]


@pytest.mark.parametrize("name", sorted(RECORD_TYPES))
def test_record_forms_offer_select_choices_only(app, name):
    db.session.add(CustomField(record_type=name, key="segment", label="Segment", kind="choice",
                               choices=["SMB", "Enterprise"]))
    db.session.commit()
    with app.test_request_context():
        form = build_form(db.session, RECORD_TYPES[name], user("admin@example.com"))
        fields = _select_fields(form)
        assert fields and all(isinstance(c, SelectChoice) for f in fields for c in f.choices)
        assert choice_values(form.cf_segment.choices) == ["", "SMB", "Enterprise"]


def test_the_convert_dialog_territory_and_admin_forms_offer_select_choices_only(app):
    with app.test_request_context():
        territory = db.session.scalars(select(Territory)).first()
        forms = [build_convert_form(db.session, db.session.get(Lead, 1), user("admin@example.com")),
                 UserForm(), CustomFieldForm(), LeadStatusForm(), CaptureSettingsForm(),
                 build_territory_form(db.session, territory)]
        for form in forms:
            for field in _select_fields(form):
                assert all(isinstance(c, SelectChoice) for c in field.choices or ()), field.name
        stage = forms[0].stage
        assert stage.has_groups() and '<optgroup label="' in stage()
