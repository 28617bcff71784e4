"""The lead Convert dialog as a WTForms form; choices are filled per request from the services."""
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.orm import Session
from wtforms import BooleanField, DecimalField, RadioField, SelectField
from wtforms.validators import NumberRange, Optional

from crm.form_choices import choice_values, grouped_choices, select_choices
from crm.models import Lead, Pipeline, User
from crm.services.conversion import CUSTOMER_CHOICES, LeadPlan, customer_suggestions
from crm.services.owners import owner_choices


class ConvertLeadForm(FlaskForm):
    owner = SelectField("Salesperson", coerce=str)
    customer = RadioField("Customer", choices=select_choices(CUSTOMER_CHOICES), default="new")
    # Checked by the service (it must exist and be visible), not against the suggestions only.
    contact = SelectField("Existing contact", coerce=str, validate_choice=False)
    organization = SelectField("Existing organization", coerce=str, validate_choice=False)
    create_deal = BooleanField("Create a deal", default=True)
    stage = SelectField("Pipeline and stage", coerce=str)
    value = DecimalField("Deal value", places=2, validators=[Optional(), NumberRange(min=0)])


def build_convert_form(session: Session, lead: Lead, viewer: User) -> ConvertLeadForm:
    """The form with the lead's owner, customer matches and the stages prefilled."""
    form = ConvertLeadForm()
    form.owner.choices = select_choices(owner_choices(session, viewer, "deal"))
    contacts, orgs = customer_suggestions(session, lead, viewer)
    form.contact.choices = select_choices(
        ((str(c.id), f"{c.name}{' · ' + c.email if c.email else ''}") for c in contacts), blank="No contact")
    form.organization.choices = select_choices(((str(o.id), o.name) for o in orgs), blank="No organization")
    form.stage.choices = grouped_choices(
        (p.name, [(str(s.id), s.name) for s in p.stages if not (s.is_won or s.is_lost)])
        for p in session.scalars(select(Pipeline).order_by(Pipeline.position)))
    if not form.is_submitted():
        _prefill(form, lead, contacts, orgs)
    return form


def _prefill(form: ConvertLeadForm, lead: Lead, contacts, orgs) -> None:
    wanted = f"user:{lead.owner_id}"
    offered = choice_values(form.owner.choices)
    form.owner.data = wanted if wanted in offered else (offered[0] if offered else "")
    form.contact.data = str(contacts[0].id) if contacts else ""
    form.organization.data = str(orgs[0].id) if orgs else ""
    form.customer.data = "link" if (contacts or orgs) else "new"
    form.value.data = lead.value


def plan_from(form: ConvertLeadForm) -> LeadPlan:
    return LeadPlan(owner=form.owner.data, customer=form.customer.data,
                    contact_id=_id(form.contact.data), organization_id=_id(form.organization.data),
                    create_deal=form.create_deal.data,
                    stage_id=_id(form.stage.data), value=form.value.data)


def _id(raw: str | None) -> int | None:
    return int(raw) if raw and raw.isdigit() else None
