"""What a page offers its viewer: flags the views compute once and templates only read (the rules
stay in the services; templates never ask who may do what)."""
from dataclasses import dataclass

from sqlalchemy.orm import Session

from crm.models import User
from crm.services.conversion import may_convert_deals
from crm.services.permissions import may_mass_change
from crm.services.record_types import DEAL, RecordType


@dataclass(frozen=True)
class Offers:
    mass_change: bool  # the "Mass change" drawer (admins and managers)
    convert_to_leads: bool  # "Convert to lead" on deals

    @property
    def selection(self) -> bool:
        """Rows can be ticked and "Select all N matching" chosen: something acts on a selection."""
        return self.mass_change or self.convert_to_leads


def offers(session: Session, viewer: User, rtype: RecordType) -> Offers:
    """What the viewer may do with records of this type from a list, the board or a record page."""
    return Offers(mass_change=may_mass_change(viewer),
                  convert_to_leads=rtype is DEAL and may_convert_deals(session, viewer))
