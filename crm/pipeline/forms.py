"""The lead Convert dialog as a WTForms form; choices are filled per request from the services."""
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.orm import Session
from wtforms import BooleanField, DecimalField, RadioField, SelectField, StringField
from wtforms.validators import Length, NumberRange, Optional

from crm.form_choices import choice_values, grouped_choices, select_choices
from crm.i18n import _, _l
from crm.models import Lead, Pipeline, Team, User
from crm.params import to_id
from crm.services.conversion import CUSTOMER_CHOICES, LeadPlan, customer_suggestions
from crm.services.owners import owner_choices


DEAL_POOLS = _l("Deal pools (with a deal)")  # the optgroup the dialog switches off without a deal


class ConvertLeadForm(FlaskForm):
    owner = SelectField("Salesperson", coerce=str, description=_l(
        "A pool's next member gets everything the conversion creates: contact, organization and deal."))
    team = SelectField(_l("Team"), coerce=str, validate_choice=False)  # checked by the service
    customer = RadioField("Customer", choices=select_choices(CUSTOMER_CHOICES), default="new")
    # Checked by the service (it must exist and be visible), not against the suggestions only.
    contact = SelectField("Existing contact", coerce=str, validate_choice=False)
    organization = SelectField("Existing organization", coerce=str, validate_choice=False)
    create_deal = BooleanField("Create a deal", default=True)
    deal_title = StringField(_l("Deal name"), validators=[Length(max=200)])
    stage = SelectField("Pipeline and stage", coerce=str)
    value = DecimalField("Deal value", places=2, validators=[Optional(), NumberRange(min=0)])


def build_convert_form(session: Session, lead: Lead, viewer: User) -> ConvertLeadForm:
    """The form with the lead's owner and team, customer matches and the stages prefilled."""
    form = ConvertLeadForm()
    form.owner.choices = _owner_groups(session, viewer)
    teams = session.scalars(select(Team).order_by(Team.name) if viewer.is_admin
                            else select(Team).where(Team.id == viewer.team_id)).all()
    form.team.choices = select_choices(((str(t.id), t.name) for t in teams), blank=_l("The salesperson's team"))
    contacts, orgs = customer_suggestions(session, lead, viewer)
    form.contact.choices = select_choices(
        ((str(c.id), f"{c.name}{' · ' + c.email if c.email else ''}") for c in contacts), blank="No contact")
    form.organization.choices = select_choices(((str(o.id), o.name) for o in orgs), blank="No organization")
    form.stage.choices = grouped_choices(
        (p.name, [(str(s.id), s.name) for s in p.stages if not (s.is_won or s.is_lost)])
        for p in session.scalars(select(Pipeline).order_by(Pipeline.position)))
    form.value.label.text = _("Deal value (%(currency)s)", currency=lead.currency)
    if not form.is_submitted():
        _prefill(form, lead, contacts, orgs)
    return form


def _owner_groups(session: Session, viewer: User):
    """People, then contact pools (with or without a deal), then deal pools (only with a deal)."""
    def pools(record_type: str) -> list[tuple[str, str]]:
        return [c for c in owner_choices(session, viewer, record_type) if c[0].startswith("pool:")]
    people = [c for c in owner_choices(session, viewer, "deal") if not c[0].startswith("pool:")]
    return grouped_choices([(str(_l("People")), people), (str(_l("Contact pools")), pools("contact")),
                            (str(DEAL_POOLS), pools("deal"))])


def _prefill(form: ConvertLeadForm, lead: Lead, contacts, orgs) -> None:
    wanted = f"user:{lead.owner_id}"
    offered = choice_values(form.owner.choices)
    form.owner.data = wanted if wanted in offered else (offered[0] if offered else "")
    team = str(lead.team_id or "")
    form.team.data = team if team in choice_values(form.team.choices) else ""
    form.deal_title.data = lead.title
    form.contact.data = str(contacts[0].id) if contacts else ""
    form.organization.data = str(orgs[0].id) if orgs else ""
    form.customer.data = "link" if (contacts or orgs) else "new"
    form.value.data = lead.value


def plan_from(form: ConvertLeadForm) -> LeadPlan:
    return LeadPlan(owner=form.owner.data, customer=form.customer.data,
                    contact_id=to_id(form.contact.data), organization_id=to_id(form.organization.data),
                    create_deal=form.create_deal.data, stage_id=to_id(form.stage.data), value=form.value.data,
                    deal_title=form.deal_title.data or "", team_id=to_id(form.team.data))
