"""WTForms for each record type, with the admin's custom fields added at request time."""
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.orm import Session
from wtforms import (
    BooleanField, DateField, DecimalField, EmailField, FloatField, SelectField, StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Email, Length, NumberRange, Optional

from crm.form_choices import FormView, select_choices
from crm.models import CustomField, Organization, Contact, Stage, User
from crm.services import lead_statuses
from crm.services.owners import owner_choices
from crm.services.permissions import visible_clause
from crm.services.record_types import RecordType

OPTIONAL_EMAIL = [Optional(), Email(message="Enter an email address like name@company.com."), Length(max=254)]


def place_fields() -> tuple:
    """Address, city, country, latitude, longitude: made in each form's body, so that they come
    after its own fields (WTForms orders fields by when they were created)."""
    return (StringField("Address", validators=[Length(max=255)]),
            StringField("City", validators=[Length(max=120)]),
            StringField("Country", validators=[Length(max=80)]),
            FloatField("Latitude", validators=[Optional(), NumberRange(-90, 90)]),
            FloatField("Longitude", validators=[Optional(), NumberRange(-180, 180)]))


class LeadForm(FlaskForm):
    title = StringField("Title", validators=[DataRequired(message="A lead needs a title."), Length(max=200)])
    person_name = StringField("Contact person", validators=[Length(max=160)])
    company_name = StringField("Company", validators=[Length(max=160)])
    email = EmailField("Email", validators=OPTIONAL_EMAIL)
    phone = StringField("Phone", validators=[Length(max=40)])
    status = SelectField("Status", coerce=str)
    owner = SelectField("Owner", coerce=str)
    source = StringField("Source", validators=[Length(max=60)])
    value = DecimalField("Value", places=2, validators=[Optional(), NumberRange(min=0)])
    tags = StringField("Tags", description="Comma-separated", validators=[Length(max=400)])
    address, city, country, lat, lng = place_fields()
    description = TextAreaField("Description")


class DealForm(FlaskForm):
    title = StringField("Title", validators=[DataRequired(message="A deal needs a title."), Length(max=200)])
    value = DecimalField("Value", places=2, validators=[Optional(), NumberRange(min=0)])
    currency = SelectField("Currency", choices=select_choices((c, c) for c in ("EUR", "USD", "GBP", "SEK")))
    stage = SelectField("Stage", coerce=str)
    owner = SelectField("Owner", coerce=str)
    organization = SelectField("Organization", coerce=str)
    contact = SelectField("Contact person", coerce=str)
    expected_close = DateField("Expected close", validators=[Optional()])
    email = EmailField("Email", validators=OPTIONAL_EMAIL)
    phone = StringField("Phone", validators=[Length(max=40)])
    source = StringField("Source", validators=[Length(max=60)])
    address, city, country, lat, lng = place_fields()
    description = TextAreaField("Description")


class ContactForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(message="A contact needs a name."), Length(max=160)])
    email = EmailField("Email", validators=OPTIONAL_EMAIL)
    phone = StringField("Phone", validators=[Length(max=40)])
    job_title = StringField("Job title", validators=[Length(max=120)])
    organization = SelectField("Organization", coerce=str)
    owner = SelectField("Owner", coerce=str)
    source = StringField("Source", validators=[Length(max=60)])
    address, city, country, lat, lng = place_fields()


class OrganizationForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(message="An organization needs a name."), Length(max=160)])
    email = EmailField("Email", validators=OPTIONAL_EMAIL)
    phone = StringField("Phone", validators=[Length(max=40)])
    website = StringField("Website", validators=[Length(max=200)])
    owner = SelectField("Owner", coerce=str)
    source = StringField("Source", validators=[Length(max=60)])
    address, city, country, lat, lng = place_fields()


FORMS = {"lead": LeadForm, "deal": DealForm, "contact": ContactForm, "organization": OrganizationForm}


def custom_fields(session: Session, record_type: str) -> list[CustomField]:
    return list(session.scalars(select(CustomField).where(CustomField.record_type == record_type)
                                .order_by(CustomField.position, CustomField.id)))


def build_form(session: Session, rtype: RecordType, viewer: User, record=None, **kwargs) -> FlaskForm:
    """The record type's form with choices filled and one field per custom field."""
    fields = custom_fields(session, rtype.name)

    class Form(FORMS[rtype.name]):
        pass

    for cf in fields:
        setattr(Form, f"cf_{cf.key}", _custom_field(cf))
    form = Form(obj=FormView(record, _initial(record, fields)) if record is not None else None, **kwargs)
    form.custom_fields = fields
    _fill_choices(session, form, rtype, viewer, record)
    return form


def _custom_field(cf: CustomField):
    required = [DataRequired(message=f"{cf.label} is required.")] if cf.required and cf.kind != "checkbox" else [Optional()]
    match cf.kind:
        case "number":
            return FloatField(cf.label, validators=required)
        case "date":
            return DateField(cf.label, validators=required)
        case "checkbox":
            return BooleanField(cf.label)
        case "choice":
            return SelectField(cf.label, choices=select_choices(((c, c) for c in cf.choices), blank="—"),
                               validators=required)
        case _:
            return StringField(cf.label, validators=required + [Length(max=500)])


def _initial(record, fields: list[CustomField]) -> dict:
    data = {}
    if hasattr(record, "owner_id"):
        data["owner"] = f"user:{record.owner_id}" if record.owner_id else ""
    for name in ("status", "stage", "organization", "contact"):
        fk = getattr(record, f"{name}_id", None)
        data[name] = str(fk) if fk else ""
    custom = record.custom or {}
    for cf in fields:
        value = custom.get(cf.key)
        if cf.kind == "date" and value:
            from datetime import date
            value = date.fromisoformat(value)
        data[f"cf_{cf.key}"] = value
    return data


def _fill_choices(session: Session, form, rtype: RecordType, viewer: User, record) -> None:
    owners = owner_choices(session, viewer, rtype.name)
    if record is not None and record.owner_id and f"user:{record.owner_id}" not in dict(owners):
        owners.insert(0, (f"user:{record.owner_id}", record.owner.name if record.owner else "—"))
    form.owner.choices = select_choices(owners, blank="No owner")
    if hasattr(form, "status"):
        form.status.choices = select_choices(((str(s.id), s.name) for s in session.scalars(lead_statuses.ordered())),
                                             blank="—")
    if hasattr(form, "stage"):
        form.stage.choices = select_choices((str(s.id), str(s)) for s in session.scalars(
            select(Stage).join(Stage.pipeline).order_by(Stage.pipeline_id, Stage.position)))
    if hasattr(form, "organization"):
        form.organization.choices = select_choices(((str(i), n) for i, n in session.execute(
            select(Organization.id, Organization.name).where(
                Organization.deleted_at.is_(None), visible_clause(Organization, viewer))
            .order_by(Organization.name).limit(1000))), blank="—")
    if hasattr(form, "contact"):
        form.contact.choices = select_choices(((str(i), n) for i, n in session.execute(
            select(Contact.id, Contact.name).where(
                Contact.deleted_at.is_(None), visible_clause(Contact, viewer))
            .order_by(Contact.name).limit(1000))), blank="—")


PLAIN_FIELDS = {
    "lead": ("title", "person_name", "company_name", "email", "phone", "source", "value", "tags", "description"),
    "deal": ("title", "value", "currency", "expected_close", "email", "phone", "source", "description"),
    "contact": ("name", "email", "phone", "job_title", "source"),
    "organization": ("name", "email", "phone", "website", "source"),
}
PLACE_FIELDS = ("address", "city", "country", "lat", "lng")


def form_values(session: Session, form, rtype: RecordType, viewer: User, record=None) -> dict:
    """Model attribute values from a validated form (owner through owner resolution).

    The record's current owner may stay as it is even when they could not be chosen now (an
    inactive user): editing a field must not require reassigning the record first."""
    from crm.services.geo import locate
    from crm.services.owners import resolve_owner

    values = {name: getattr(form, name).data for name in PLAIN_FIELDS[rtype.name] + PLACE_FIELDS}
    values = {k: (v.strip() if isinstance(v, str) else v) for k, v in values.items()}
    if values["city"] and values["lat"] is None and values["lng"] is None:
        values["lat"], values["lng"] = locate(values["city"], values["country"]) or (None, None)
    if record is not None and record.owner_id and form.owner.data == f"user:{record.owner_id}":
        values["owner_id"] = record.owner_id
    else:
        owner = resolve_owner(session, form.owner.data, viewer, rtype.name)
        values["owner_id"] = owner.id if owner else None
    if hasattr(form, "status"):
        values["status_id"] = int(form.status.data) if form.status.data else None
    if hasattr(form, "stage"):
        stage = session.get(Stage, int(form.stage.data))
        values["stage_id"], values["pipeline_id"] = stage.id, stage.pipeline_id
    for name in ("organization", "contact"):
        if hasattr(form, name):
            values[f"{name}_id"] = int(getattr(form, name).data) if getattr(form, name).data else None
    values["custom"] = {cf.key: _custom_value(getattr(form, f"cf_{cf.key}").data)
                        for cf in form.custom_fields}
    return values


def _custom_value(value):
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value if value != "" else None
