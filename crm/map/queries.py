"""What the map page needs besides pins: legend colours, location counts, territories."""
import json
from dataclasses import dataclass

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from crm.i18n import _, _l
from crm.models import LeadStatus, Pipeline, Stage, Territory, User
from crm.services import lead_statuses
from crm.services.filters import Filter, conditions
from crm.services.record_types import RecordType
from crm.formatting import money

PALETTE = ["#2563eb", "#f59e0b", "#16a34a", "#dc2626", "#7c3aed", "#0891b2", "#db2777",
           "#65a30d", "#ea580c", "#4b5563", "#0d9488", "#9333ea", "#b45309", "#1e40af"]
MAP_TYPES = ("leads", "deals", "contacts")
OPEN_RECORD = {"lead": _l("Open lead"), "deal": _l("Open deal"), "contact": _l("Open contact")}


@dataclass
class LegendEntry:
    id: int
    name: str
    color: str


def legend(session: Session, rtype: RecordType) -> list[LegendEntry]:
    """Pin colours: one per lead status or deal stage, in pipeline order."""
    source = rtype.position_field.choices if rtype.position else None
    if source == "lead_status":
        rows = session.execute(lead_statuses.ordered().with_only_columns(LeadStatus.id, LeadStatus.name)).all()
    elif source == "stage":
        rows = session.execute(select(Stage.id, Pipeline.name + ": " + Stage.name).join(Pipeline)
                               .order_by(Pipeline.position, Stage.position)).all()
    else:
        return []
    return [LegendEntry(i, name, PALETTE[n % len(PALETTE)]) for n, (i, name) in enumerate(rows)]


def owner_legend(users: list) -> list[LegendEntry]:
    """Pin colours by owner: one per user (id, name), in the order given."""
    return [LegendEntry(i, name, PALETTE[n % len(PALETTE)]) for n, (i, name) in enumerate(users)]


def category_column(rtype: RecordType):
    return getattr(rtype.model, rtype.stage_column) if rtype.stage_column else None


@dataclass
class Located:
    on_map: int          # records with coordinates
    unlocated: int       # records without
    bounds: list | None  # [[south, west], [north, east]] of those on the map


def location_counts(session: Session, rtype: RecordType, flt: Filter, viewer: User) -> Located:
    """How many matching records have coordinates, how many not, and where they are."""
    model = rtype.model
    located = case((and_(model.lat.is_not(None), model.lng.is_not(None)), 1), else_=0)
    total, on_map, s, w, n, e = session.execute(
        select(func.count(), func.coalesce(func.sum(located), 0), func.min(model.lat), func.min(model.lng),
               func.max(model.lat), func.max(model.lng))
        .select_from(model).where(*conditions(rtype, flt, viewer))).one()
    bounds = [[s, w], [n, e]] if on_map else None
    return Located(int(on_map), int(total - on_map), bounds)


def territory_layers(session: Session) -> list[dict]:
    """Territories for the map: shape, colour, owner name, record counts are left to filters."""
    rows = session.execute(select(Territory, User.name).outerjoin(User, User.id == Territory.owner_id)
                           .order_by(Territory.name)).all()
    return [{"id": t.id, "name": t.name, "color": t.color, "owner": owner or "",
             "auto_assign": t.auto_assign, "geojson": json.loads(t.geojson) if t.geojson else None}
            for t, owner in rows]


def popup_content(rtype: RecordType, record, url: str) -> dict:
    """A pin's popup: title, link and key fields as (label, value) text pairs."""
    fields: list[tuple[str, str]] = []
    if rtype.name == "lead":
        contact = ", ".join(p for p in (record.person_name, record.company_name) if p)
        if contact:
            fields.append((_("Contact"), contact))
        fields.append((_("Status"), record.status.name if record.status else "—"))
    elif rtype.name == "deal":
        fields.append((_("Stage"), record.stage.name))
    elif rtype.name == "contact" and record.job_title:
        fields.append((_("Job title"), record.job_title))
    if getattr(record, "organization", None) is not None:
        fields.append((_("Organization"), record.organization.name))
    if getattr(record, "value", None) is not None:
        fields.append((_("Value"), money(record.value, getattr(record, "currency", "EUR") or "EUR")))
    fields.append((_("Owner"), record.owner.name if record.owner else _("No owner")))
    place = ", ".join(p for p in (record.city, record.country) if p)
    fields.append((_("Place"), place or "—"))
    return {"title": getattr(record, rtype.title_column), "url": url, "fields": fields,
            "open": str(OPEN_RECORD[rtype.name])}
