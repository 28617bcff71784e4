"""The record form of any record type, built from its fields in the registry (custom fields too)."""
from datetime import date

from flask_wtf import FlaskForm
from sqlalchemy.orm import Session
from wtforms import (
    BooleanField, DateField, DecimalField, EmailField, FloatField, SelectField, StringField, TextAreaField,
)
from wtforms.validators import DataRequired, Email, Length, NumberRange, Optional

from crm.form_choices import FormView, select_choices
from crm.i18n import _l
from crm.models import User
from crm.services.field_values import ValueParser, options
from crm.services.fields import Field, Kind, fields_of
from crm.services.geo import locate
from crm.services import assignment
from crm.services.owners import check_owner_kept, may_leave_ownerless, may_use_pools, resolve_owner
from crm.services.record_types import RecordType

BY_RULES = "rules"  # the lead create form's owner choice: let the assignment rules decide

EMAIL_MESSAGE = _l("Enter an email address like name@company.com.")


def build_form(session: Session, rtype: RecordType, viewer: User, record=None, **kwargs) -> FlaskForm:
    """The record type's form: one input per registry field on forms, choices filled for the viewer."""
    fields = [f for f in fields_of(session, rtype) if f.form]

    class Form(FlaskForm):
        pass

    for f in fields:  # WTForms keeps the order the inputs were made in: the registry's
        setattr(Form, f.form_name, _input(f))
    form = Form(obj=FormView(record, _initial(record, fields)) if record is not None else None, **kwargs)
    form.registry_fields = fields
    _fill_choices(session, form, rtype, viewer, record)
    return form


def _input(f: Field):
    """The WTForms input for a field's kind, with its checks (required, length, bounds)."""
    checks = [DataRequired(message=f.required)] if f.required and f.kind != Kind.BOOLEAN else [Optional()]
    if f.max_length:
        checks.append(Length(max=f.max_length))
    label, help_text = f.label, f.description
    match f.kind:
        case Kind.EMAIL:
            return EmailField(label, validators=[*checks, Email(message=EMAIL_MESSAGE)])
        case Kind.MONEY:
            return DecimalField(label, places=2, validators=[*checks, NumberRange(min=0)])
        case Kind.NUMBER:
            return FloatField(label, validators=checks)
        case Kind.GEO:
            return FloatField(label, validators=[*checks, NumberRange(*f.bounds)])
        case Kind.DATE:
            return DateField(label, validators=checks)
        case Kind.BOOLEAN:
            return BooleanField(label)
        case Kind.CHOICE | Kind.REFERENCE:
            fixed = isinstance(f.choices, tuple)
            return SelectField(label, coerce=str, validators=checks, choices=select_choices(
                ((c, c) for c in f.choices), blank="—" if f.is_custom else None) if fixed else None)
    if f.multiline:
        return TextAreaField(label, validators=checks, description=help_text)
    return StringField(label, validators=checks, description=help_text)


def _initial(record, fields: list[Field]) -> dict:
    """What the edit form shows where it differs from the attribute: choice values and custom values."""
    data = {}
    for f in fields:
        value = f.value(record)
        if f.choices == "owner":
            data[f.form_name] = f"user:{value}" if value else ""
        elif f.choices and not isinstance(f.choices, tuple):
            data[f.form_name] = str(value) if value else ""
        elif f.custom_key:
            data[f.form_name] = date.fromisoformat(value) if f.kind == Kind.DATE and value else value
    return data


def _fill_choices(session: Session, form, rtype: RecordType, viewer: User, record) -> None:
    for f in form.registry_fields:
        if not f.choices or isinstance(f.choices, tuple):
            continue
        choices = options(session, f, viewer, rtype.name)
        if f.choices == "owner" and record is not None and record.owner_id \
                and f"user:{record.owner_id}" not in dict(choices):
            choices.insert(0, (f"user:{record.owner_id}", record.owner.name if record.owner else "—"))
        if f.choices == "owner" and record is None and rtype.name == "lead" and may_use_pools(viewer) \
                and assignment.rules(session):
            choices.insert(0, (BY_RULES, _l("By the assignment rules")))
        if f.required or (f.choices == "owner" and not may_leave_ownerless(viewer)):
            blank = None  # only admins may leave a record without owner
        else:
            blank = _l("No owner") if f.choices == "owner" else "—"
        form[f.form_name].choices = select_choices(choices, blank=blank)


def form_values(session: Session, form, rtype: RecordType, viewer: User, record=None) -> dict:
    """Model attribute values from a validated form (owner through owner resolution).

    The record's current owner may stay as it is even when they could not be chosen now (an
    inactive user): editing a field must not require reassigning the record first."""
    parser = ValueParser(session, viewer)
    values: dict = {"custom": {}}
    for f in form.registry_fields:
        data = form[f.form_name].data
        data = data.strip() if isinstance(data, str) else data
        if f.custom_key:
            values["custom"][f.custom_key] = _custom_value(data)
        elif f.choices == "owner":
            values[f.attr] = _owner_id(session, data, rtype, viewer, record)
        elif f.choices and not isinstance(f.choices, tuple):
            values |= parser.parse(f, data) if data else {f.attr: None}
        else:
            values[f.attr] = data
    if values.get("city") and values.get("lat") is None and values.get("lng") is None:
        values["lat"], values["lng"] = locate(values["city"], values.get("country", "")) or (None, None)
    return values


def _owner_id(session: Session, choice: str, rtype: RecordType, viewer: User, record) -> int | None:
    if choice == BY_RULES:  # the creator holds it until the rules route it (records/views.new_record)
        return viewer.id
    if record is not None and record.owner_id and choice == f"user:{record.owner_id}":
        return record.owner_id
    owner = resolve_owner(session, choice, viewer, rtype.name)
    check_owner_kept(owner, viewer)
    return owner.id if owner else None


def _custom_value(value):
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value if value != "" else None
