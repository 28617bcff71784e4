"""Each rule lives in one place and every path goes through it: owners (the owner service),
territory moves (the bulk engine), what the trash shows (the filter builder)."""
import ast
from pathlib import Path

from sqlalchemy import func, select, update

from crm.extensions import db
from crm.models import Batch, Deal, HistoryEvent, Lead, User
from crm.models.mixins import utcnow
from crm.services.conversion import convert_deal_to_lead
from crm.services.filters import Filter, filtered_select, owner_options
from crm.services.geometry import read_latlngs
from crm.services.record_types import LEAD
from crm.services.editing import create_record
from crm.services.territories import create_territory, recompute_territories
from crm.services.trash import trash_counts

SQUARE = [[10, 10], [10, 20], [20, 20], [20, 10]]
SERVICES = Path(__file__).resolve().parents[1] / "crm" / "services"


def by_email(email: str) -> User:
    return db.session.scalar(select(User).where(User.email == email))


def put_leads_in_the_square(*ids: int) -> None:
    db.session.execute(update(Lead).where(Lead.id.in_(ids)).values(lat=12.0, lng=12.0, territory_id=None))


def test_an_inactive_territory_owner_hands_no_records(app, admin):
    """Auto-assign goes through the owner service: an owner who may no longer own records gets none."""
    owner = by_email("rep4@example.com")
    territory, _ = create_territory(db.session, admin, name="Dormant", area=read_latlngs(SQUARE),
                                    owner_id=owner.id, auto_assign=True)
    owner.active = False
    before = db.session.get(Lead, 1).owner_id
    put_leads_in_the_square(1)
    recompute_territories(db.session, admin)
    db.session.expire_all()
    assert (db.session.get(Lead, 1).territory_id, db.session.get(Lead, 1).owner_id) == (territory.id, before)
    created = create_record(db.session, LEAD, {"title": "Walk-in", "lat": 12.0, "lng": 12.0}, admin)
    assert (created.territory_id, created.owner_id) == (territory.id, admin.id)


def test_territory_moves_go_through_the_bulk_engine(app, admin):
    """One batch; territory, owner AND team each logged per record, with the values as they were."""
    owner = by_email("rep4@example.com")
    put_leads_in_the_square(1, 2)
    old = {i: (db.session.get(Lead, i).owner_id, db.session.get(Lead, i).team_id) for i in (1, 2)}
    territory, result = create_territory(db.session, admin, name="South square", area=read_latlngs(SQUARE),
                                         owner_id=owner.id, auto_assign=True)
    assert (result.moved, result.reassigned) == (2, sum(1 for o, _t in old.values() if o != owner.id))
    batch = db.session.scalar(select(Batch).where(Batch.action == "territories"))
    assert batch.count == 2 and "2 records moved" in batch.summary
    events = db.session.execute(select(HistoryEvent.record_id, HistoryEvent.field, HistoryEvent.old,
                                       HistoryEvent.new).where(HistoryEvent.batch_id == batch.id,
                                                               HistoryEvent.record_type == "lead")).all()
    for lead_id, (owner_id, team_id) in old.items():
        assert (lead_id, "territory_id", None, str(territory.id)) in events
        if owner_id != owner.id:
            assert (lead_id, "owner_id", str(owner_id), str(owner.id)) in events
        if team_id != owner.team_id:
            assert (lead_id, "team_id", str(team_id), str(owner.team_id)) in events
    assert db.session.get(Lead, 1).team_id == owner.team_id


def test_a_rep_sees_the_same_trash_on_the_list_and_on_the_trash_page(app, rep):
    """A teammate's trashed lead is not the rep's to restore: neither view lists it."""
    mate = by_email("rep2@example.com")
    theirs = db.session.scalar(select(Lead).where(Lead.owner_id == mate.id))
    mine = db.session.scalar(select(Lead).where(Lead.owner_id == rep.id))
    theirs.deleted_at = mine.deleted_at = utcnow()
    db.session.commit()
    listed = set(db.session.scalars(filtered_select(LEAD, Filter(trash=True), rep, columns=(Lead.id,))))
    assert listed == {mine.id}
    assert trash_counts(db.session, rep)["lead"] == 1


def test_the_owner_filter_offers_every_owner_of_what_the_viewer_sees(app, manager):
    """A North lead owned by someone from South can be filtered by its owner (the filter builder decides)."""
    stranger = by_email("rep4@example.com")
    lead = db.session.scalar(select(Lead).where(Lead.team_id == manager.team_id))
    lead.owner_id = stranger.id
    db.session.commit()
    offered = dict(owner_options(db.session, LEAD, manager))
    assert stranger.id in offered
    assert by_email("rep5@example.com").id not in offered  # South's own records are not the manager's


def test_deal_to_lead_gives_the_lead_to_the_converter_through_the_owner_service(app, admin):
    deal = db.session.scalar(select(Deal).where(Deal.deleted_at.is_(None)))
    admin.active = False  # an inactive converter cannot be given records
    try:
        convert_deal_to_lead(db.session, deal, admin)
    except Exception as error:
        assert "inactive" in str(error)
    else:
        raise AssertionError("converted for an inactive owner")
    db.session.rollback()
    assert db.session.scalar(select(func.count(Lead.id)).where(Lead.origin_deal_id == deal.id)) == 0


def test_services_do_not_import_the_web_framework():
    """crm/services is plain Python over a session: no flask (request, app), no `db` global, no MultiDict."""
    offenders = []
    for path in SERVICES.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            module = node.module or "" if isinstance(node, ast.ImportFrom) else ""
            imported = [*names, module]
            if any(m.startswith("flask") or m in ("crm.extensions", "werkzeug.datastructures") for m in imported):
                offenders.append(f"{path.relative_to(SERVICES)}:{node.lineno}")
    assert offenders == []
