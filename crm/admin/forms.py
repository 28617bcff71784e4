from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Email, Length, Optional, Regexp

from crm.form_choices import select_choices
from crm.models import Role
from crm.models.custom_fields import FIELD_KINDS
from crm.services.lead_statuses import KINDS as STATUS_KINDS
from crm.services.record_types import RECORD_TYPES


class UserForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=120)])
    email = EmailField("Email", validators=[DataRequired(), Email(), Length(max=254)])
    role = SelectField("Role", choices=select_choices((r.value, r.value.capitalize()) for r in Role),
                       default=Role.REP.value)
    team = SelectField("Team", coerce=str)
    active = BooleanField("Active", default=True)
    can_convert_deals = BooleanField("May convert deals to leads", default=True)
    password = PasswordField("New password", validators=[Optional(), Length(min=8, message="Use at least 8 characters.")])


class CustomFieldForm(FlaskForm):
    record_type = SelectField("Record type", choices=select_choices((k, t.label) for k, t in RECORD_TYPES.items()))
    label = StringField("Label", validators=[DataRequired(), Length(max=80)])
    key = StringField("Key", description="Lowercase letters, digits and underscores; used in filters as cf_<key>",
                      validators=[DataRequired(), Length(max=40),
                                  Regexp(r"^[a-z][a-z0-9_]*$", message="Use lowercase letters, digits and underscores.")])
    kind = SelectField("Type", choices=select_choices((k, k.capitalize()) for k in FIELD_KINDS))
    choices = StringField("Choices", description="For single choice: comma-separated")
    required = BooleanField("Required")


class LeadStatusForm(FlaskForm):
    name = StringField("Status name", validators=[DataRequired(), Length(max=60)])
    kind = SelectField("Kind", choices=select_choices((k, k.capitalize()) for k in STATUS_KINDS))


class RemoveStatusForm(FlaskForm):
    replacement = SelectField("Move its leads to", coerce=str, default="")


class TeamForm(FlaskForm):
    name = StringField("Team name", validators=[DataRequired(), Length(max=80)])
