"""#12: a deal converted to a lead and restored does not count as "changed again since" for an
earlier stage batch; Undo puts every deal of the batch back in its old stage."""
import re

from playwright.sync_api import Page, expect
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from crm.extensions import db
from crm.models import Deal, Stage, User
from crm.services import bulk
from crm.services.filters import parse_filter
from crm.services.record_types import DEAL
from e2e.helpers import login


def _stage_batch(app_db) -> tuple[str, dict[int, int]]:
    """An earlier mass change moved three deals of one pipeline to another stage: (batch id, old stages)."""
    with app_db():
        admin = db.session.scalar(select(User).where(User.email == "admin@example.com"))
        first = db.session.scalar(select(Deal).where(Deal.deleted_at.is_(None)).order_by(Deal.id))
        deals = db.session.scalars(select(Deal).where(Deal.deleted_at.is_(None), Deal.pipeline_id == first.pipeline_id)
                                   .order_by(Deal.id).limit(3)).all()
        target = db.session.scalar(select(Stage).where(Stage.pipeline_id == first.pipeline_id,
                                                       Stage.id.not_in([d.stage_id for d in deals])))
        before = {d.id: d.stage_id for d in deals}
        flt = parse_filter(db.session, DEAL, MultiDict({"ids": ",".join(map(str, before))}), admin)
        outcome = bulk.change_stage(db.session, bulk.Selection.build(DEAL, flt, admin, select_all=False),
                                    target.id, expected=len(before))
        db.session.commit()
        return outcome.batch.id, before


def test_undo_of_a_stage_batch_after_a_deal_went_to_leads_and_came_back(page: Page, live_server, app_db):
    batch_id, before = _stage_batch(app_db)
    deal_id = next(iter(before))
    login(page, live_server)
    page.goto(f"{live_server}/deals/{deal_id}")
    page.get_by_label("More actions").click()
    page.get_by_role("link", name="Convert to lead").click()
    page.get_by_role("dialog").get_by_role("button", name="Convert to lead").click()
    expect(page).to_have_url(re.compile(r"/leads/\d+$"))
    page.goto(f"{live_server}/deals/{deal_id}")
    page.get_by_role("button", name="Restore").click()
    expect(page.get_by_role("button", name="Restore")).to_have_count(0)
    with app_db():
        assert db.session.get(Deal, deal_id).deleted_at is None

    page.goto(f"{live_server}/bulk/{batch_id}")
    undo = page.get_by_role("region", name="Undo")
    expect(undo).to_contain_text("Undo puts 3 records back exactly as they were before this change.")
    expect(page.get_by_text("changed again since")).to_have_count(0)
    expect(page.get_by_label("Undo them too")).to_have_count(0)
    undo.get_by_role("button", name="Undo").click()
    expect(page.get_by_text("was undone on")).to_be_visible()
    with app_db():
        db.session.expire_all()
        assert {i: db.session.get(Deal, i).stage_id for i in before} == before
