"""The territory edit form; owner choices are filled per request."""
from flask_wtf import FlaskForm
from sqlalchemy import or_, select
from sqlalchemy.orm import Session
from wtforms import BooleanField, ColorField, HiddenField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Regexp

from crm.form_choices import select_choices
from crm.models import Territory, User
from crm.params import to_id


class TerritoryForm(FlaskForm):
    name = StringField("Territory name", validators=[DataRequired(), Length(max=80)])
    owner = SelectField("Territory owner", coerce=str)
    auto_assign = BooleanField("Auto-assign records inside to the owner")
    color = ColorField("Colour", validators=[Regexp(r"^#[0-9a-fA-F]{6}$", message="Pick a colour.")])
    # A new outline as [[lat, lng], ...] from the drawing tool; empty keeps the current one.
    outline = HiddenField()
    next = HiddenField()


def build_territory_form(session: Session, territory: Territory) -> TerritoryForm:
    """The form prefilled from the territory; active users (and its current owner) to choose from."""
    form = TerritoryForm(data=dict(name=territory.name, owner=str(territory.owner_id or ""),
                                   auto_assign=territory.auto_assign, color=territory.color))
    users = session.execute(select(User.id, User.name, User.active)
                            .where(or_(User.active, User.id == territory.owner_id)).order_by(User.name)).all()
    form.owner.choices = select_choices(((str(i), name if active else f"{name} (inactive)")
                                         for i, name, active in users), blank="No owner")
    return form


def owner_id(form: TerritoryForm) -> int | None:
    return to_id(form.owner.data)
