"""The admin's settings form for a web capture form."""
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length
from wtforms.widgets import CheckboxInput, ListWidget

from crm.form_choices import select_choices
from crm.services.capture import FIELDS


class CaptureSettingsForm(FlaskForm):
    name = StringField("Form name", validators=[DataRequired(message="A form needs a name."), Length(max=120)])
    fields = SelectMultipleField("Fields shown", choices=select_choices((k, label) for k, (label, _) in FIELDS.items()),
                                 widget=ListWidget(prefix_label=False), option_widget=CheckboxInput(),
                                 description="Email is always asked: the duplicate check needs it.")
    owner = SelectField("Default owner or pool", coerce=str)
    source = StringField("Source label", validators=[DataRequired(message="Give the source a label."), Length(max=60)])
    allowed_origins = TextAreaField("Other sites that embed this form",
                                    description="One origin per line, such as https://www.example.com")
    active = BooleanField("Accept submissions")
