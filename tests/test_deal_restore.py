"""Restoring a converted deal takes the conversion back: its untouched lead returns to the trash and
the notes, emails and open activities return to the deal, for one deal and for a whole batch."""
from sqlalchemy import func, select

from crm.extensions import db
from crm.models import Activity, Batch, Deal, EmailMessage, HistoryEvent, Lead, Note
from crm.services.conversion import convert_deal_to_lead, convert_deals_to_leads
from crm.services.editing import update_record
from tests.test_conversion import add_deals, children, deal_with_children


def assert_taken_back(deal: Deal, lead: Lead) -> None:
    """The deal is live with everything the conversion moved; the lead is in the trash, empty."""
    db.session.expire_all()
    deal, lead = db.session.get(Deal, deal.id), db.session.get(Lead, lead.id)
    assert deal.deleted_at is None and lead.deleted_at is not None
    for model in (Note, EmailMessage, Activity):
        assert children(model, lead_id=lead.id) == []
    assert sorted(n.body for n in children(Note, deal_id=deal.id)) == ["Budget approved", "Wants 40 vans"]
    assert [e.subject for e in children(EmailMessage, deal_id=deal.id)] == ["Quote"]
    assert sorted(a.subject for a in children(Activity, deal_id=deal.id)) == ["Demo visit", "Intro call"]


def events(record_type: str, record_id: int) -> list[tuple[str, str | None]]:
    return [(e.kind, e.new) for e in db.session.scalars(
        select(HistoryEvent).where(HistoryEvent.record_type == record_type, HistoryEvent.record_id == record_id)
        .order_by(HistoryEvent.id))]


def restore_from_trash(client, record: Deal | Lead):
    kind = "lead" if isinstance(record, Lead) else "deal"
    return client.post("/trash/restore", data={"type": kind, "id": str(record.id)}, follow_redirects=True)


def test_restoring_a_converted_deal_sends_its_untouched_lead_back_to_the_trash(client, auth, admin):
    deal = deal_with_children()
    lead = convert_deal_to_lead(db.session, deal, admin).lead
    db.session.commit()
    auth.login()
    page = restore_from_trash(client, deal).get_data(as_text=True)
    assert f"Deal “{deal.title}” restored. Its lead “{lead.title}” went back to the trash with it" in page
    assert_taken_back(deal, lead)
    assert events("lead", lead.id)[-1] == ("delete", f"with its deal “{deal.title}”, which was restored")
    assert [k for k, _new in events("deal", deal.id)][-2:] == ["restore", "unconvert"]


def test_the_deal_page_restore_takes_the_conversion_back_too(client, auth, admin):
    deal = deal_with_children()
    lead = convert_deal_to_lead(db.session, deal, admin).lead
    db.session.commit()
    auth.login()
    page = client.post(f"/deals/{deal.id}/restore", follow_redirects=True).get_data(as_text=True)
    assert "went back to the trash with it" in page
    assert "conversion to lead" in page and "taken back" in page  # the deal's timeline says it
    assert_taken_back(deal, lead)


def test_a_lead_worked_on_since_the_conversion_stays_with_its_notes(client, auth, admin):
    deal = deal_with_children()
    lead = convert_deal_to_lead(db.session, deal, admin).lead
    update_record(db.session, lead, {"phone": "+49 30 1234"}, admin)
    db.session.commit()
    auth.login()
    page = restore_from_trash(client, deal).get_data(as_text=True)
    assert f"Its lead “{lead.title}” stays, with its notes and activities: it was changed since the conversion" in page
    db.session.expire_all()
    assert db.session.get(Lead, lead.id).deleted_at is None and db.session.get(Deal, deal.id).deleted_at is None
    assert len(children(Note, lead_id=lead.id)) == 2 and children(Note, deal_id=deal.id) == []
    assert "unconvert" not in [k for k, _new in events("deal", deal.id)]


def test_restoring_a_plainly_deleted_deal_leaves_an_older_conversion_lead_alone(client, auth, admin):
    deal = deal_with_children()
    lead = convert_deal_to_lead(db.session, deal, admin).lead
    db.session.commit()
    auth.login()
    restore_from_trash(client, deal)
    db.session.expire_all()
    db.session.execute(Lead.__table__.update().where(Lead.id == lead.id).values(deleted_at=None))  # restored by hand
    db.session.commit()
    client.post(f"/deals/{deal.id}/trash")
    assert db.session.get(Deal, deal.id).deleted_at is not None
    page = restore_from_trash(client, deal).get_data(as_text=True)
    assert "Its lead" not in page
    assert db.session.get(Lead, lead.id).deleted_at is None


def test_restore_batch_of_a_bulk_conversion_takes_every_conversion_back(client, auth, admin):
    ids = add_deals(5, admin)
    result = convert_deals_to_leads(db.session, ids, admin)
    worked_on = db.session.get(Lead, result.lead_ids[0])
    db.session.add(Note(lead_id=worked_on.id, body="Called back, interested"))
    db.session.execute(HistoryEvent.__table__.insert().values(
        record_type="lead", record_id=worked_on.id, actor_id=admin.id, kind="note", new="Called back"))
    db.session.commit()
    auth.login()
    page = client.post(f"/trash/batches/{result.batch_id}/restore", follow_redirects=True).get_data(as_text=True)
    assert "Restored 5 deals from the trash." in page
    assert "4 leads made from them" in page and "went back to the trash with them" in page
    assert f"1 lead made from them (“{worked_on.title}”) stays" in page
    db.session.expire_all()
    assert db.session.scalar(select(func.count(Deal.id)).where(Deal.id.in_(ids), Deal.deleted_at.is_(None))) == 5
    trashed = db.session.scalars(select(Lead.id).where(Lead.id.in_(result.lead_ids), Lead.deleted_at.is_not(None)))
    assert sorted(trashed) == sorted(result.lead_ids[1:])
    assert db.session.scalar(select(func.count(Note.id)).where(Note.deal_id.in_(ids), Note.body == "bulk note")) == 4
    assert sorted(n.body for n in children(Note, lead_id=worked_on.id)) == ["Called back, interested", "bulk note"]
    restore = db.session.scalar(select(Batch).where(Batch.action == "restore").order_by(Batch.at.desc()).limit(1))
    logged = db.session.execute(select(HistoryEvent.record_type, HistoryEvent.kind, func.count())
                                .where(HistoryEvent.batch_id == restore.id)
                                .group_by(HistoryEvent.record_type, HistoryEvent.kind)).all()
    assert sorted(logged) == [("batch", "restore", 1), ("deal", "restore", 5), ("deal", "unconvert", 4), ("lead", "delete", 4)]


def test_a_lead_whose_deal_was_restored_is_not_restored_too(client, auth, admin):
    deal = deal_with_children()
    lead = convert_deal_to_lead(db.session, deal, admin).lead
    db.session.commit()
    auth.login()
    restore_from_trash(client, deal)  # takes the conversion back: the lead goes to the trash
    for page in (restore_from_trash(client, lead), client.post(f"/leads/{lead.id}/restore", follow_redirects=True)):
        text = page.get_data(as_text=True)
        assert (f"This lead came from deal “{deal.title}”, which was restored: restoring the lead too would "
                "make a duplicate.") in text
    db.session.expire_all()
    assert db.session.get(Lead, lead.id).deleted_at is not None and db.session.get(Deal, deal.id).deleted_at is None
    assert events("lead", lead.id)[-1][0] == "delete"  # nothing logged for the refusal


def test_a_batch_restore_or_undo_keeps_leads_whose_deals_were_restored_in_the_trash(client, auth, admin):
    from werkzeug.datastructures import MultiDict
    from crm.services import bulk
    from crm.services.filters import parse_filter
    from crm.services.record_types import LEAD
    from crm.services.trash import restore_batch, undo_batch
    ids = add_deals(2, admin)
    result = convert_deals_to_leads(db.session, ids, admin)
    plain = db.session.scalar(select(Lead).where(Lead.origin_deal_id.is_(None), Lead.deleted_at.is_(None)))
    lead_ids = [*result.lead_ids, plain.id]
    flt = parse_filter(db.session, LEAD, MultiDict({"ids": ",".join(map(str, lead_ids))}), admin)
    deleted = bulk.delete(db.session, bulk.Selection.build(LEAD, flt, admin, select_all=False), expected=3)
    restored_deal = db.session.get(Deal, ids[0])
    restored_deal.deleted_at = None  # the first deal came back from the trash (its lead was already there)
    db.session.commit()
    for action in (restore_batch, lambda s, b, v: undo_batch(s, b, v)):
        outcome = action(db.session, deleted.batch.id, admin)
        assert "1 lead stays in the trash: it came from deals that were restored" in outcome.message
        db.session.expire_all()
        live = set(db.session.scalars(select(Lead.id).where(Lead.id.in_(lead_ids), Lead.deleted_at.is_(None))))
        assert live == {plain.id} | set(db.session.scalars(select(Lead.id).where(Lead.origin_deal_id == ids[1])))
        db.session.rollback()
