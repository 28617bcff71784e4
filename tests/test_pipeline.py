"""The pipeline kanban: columns and totals through the filter builder, load more, moving cards."""
import re
from decimal import Decimal

from sqlalchemy import func, select

from crm.extensions import db
from crm.models import Deal, HistoryEvent, Pipeline, Stage
from crm.services.pipeline import PAGE
from tests.conftest import user

JSON = {"Accept": "application/json"}


def field_sales() -> Pipeline:
    return db.session.scalar(select(Pipeline).where(Pipeline.name == "Field sales"))


def column_counts(html: str) -> dict[str, int]:
    """Stage name -> count shown in its column header."""
    heads = re.findall(r'<h2 id="stage-\d+-name">([^<]+)</h2>\s*<p class="column-totals"><span data-count>([\d,]+)', html)
    return {name: int(count.replace(",", "")) for name, count in heads}


def test_the_board_has_one_column_per_stage_with_count_and_value(client, auth):
    pipeline = field_sales()
    auth.login()
    html = client.get(f"/pipeline?pipeline={pipeline.id}").get_data(as_text=True)
    expected = {s.name: db.session.scalar(select(func.count(Deal.id)).where(Deal.stage_id == s.id, Deal.deleted_at.is_(None)))
                for s in pipeline.stages}
    assert column_counts(html) == expected
    first = pipeline.stages[0]
    total = db.session.scalar(select(func.sum(Deal.value)).where(Deal.stage_id == first.id)) or Decimal(0)
    assert f"€{total:,.0f}" in html


def test_cards_show_title_organization_value_owner_and_next_activity(client, auth):
    deal = db.session.get(Deal, 1)
    auth.login()
    html = client.get(f"/pipeline?pipeline={deal.pipeline_id}").get_data(as_text=True)
    card = html[html.index(f'id="deal-{deal.id}"'):]
    card = card[:card.index("</li>")]
    assert deal.title in card and deal.organization.name in card and deal.owner.name in card
    assert f"€{deal.value:,.0f}" in card and ("Next:" in card or "No activity planned" in card)


def test_the_board_uses_the_deal_filters_and_the_viewers_permissions(client, auth):
    rep, other = user("rep1@example.com"), user("rep4@example.com")
    auth.login("rep1@example.com")
    html = client.get("/pipeline").get_data(as_text=True)
    assert not any(f'id="deal-{d}"' in html for d in db.session.scalars(select(Deal.id).where(Deal.owner_id == other.id)))
    auth.login()
    filtered = client.get(f"/pipeline?owner={rep.id}&pipeline={field_sales().id}").get_data(as_text=True)
    expected = db.session.scalar(select(func.count(Deal.id)).where(Deal.owner_id == rep.id, Deal.pipeline_id == field_sales().id))
    assert sum(column_counts(filtered).values()) == expected


def test_an_invalid_filter_shows_why_and_matches_nothing(client, auth):
    auth.login()
    html = client.get("/pipeline?owner=bogus").get_data(as_text=True)
    assert "Unknown owner" in html and sum(column_counts(html).values()) == 0


def test_the_board_fragment_is_the_board_only(client, auth):
    auth.login()
    response = client.get("/pipeline", headers={"HX-Request": "true"})
    assert b'id="record-rows"' in response.data and b"<html" not in response.data


def test_a_long_column_loads_more_cards_when_scrolled(client, auth, admin):
    stage = field_sales().stages[0]
    for i in range(PAGE + 5):
        db.session.add(Deal(title=f"Extra {i}", pipeline_id=stage.pipeline_id, stage_id=stage.id, owner_id=admin.id))
    db.session.commit()
    auth.login()
    html = client.get(f"/pipeline?pipeline={stage.pipeline_id}").get_data(as_text=True)
    more = re.search(r'hx-get="(/pipeline/stages/%d/cards\?offset=%d[^"]*)"\s+hx-trigger="revealed"' % (stage.id, PAGE), html)
    assert more
    total = db.session.scalar(select(func.count(Deal.id)).where(Deal.stage_id == stage.id))
    fragment = client.get(more.group(1).replace("&amp;", "&"), headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in fragment
    assert fragment.count('class="deal-card') == min(PAGE, total - PAGE)


def test_dragging_a_card_changes_its_stage_and_writes_history(client, auth, admin):
    deal = db.session.get(Deal, 1)
    target = next(s for s in deal.pipeline.stages if s.id != deal.stage_id and not s.is_won and not s.is_lost)
    auth.login()
    response = client.post(f"/pipeline/deals/{deal.id}/move", data={"to": f"stage:{target.id}", "pipeline": deal.pipeline_id},
                           headers=JSON)
    assert response.status_code == 200 and response.json["ok"] and response.json["stage_id"] == target.id
    assert str(target.id) in response.json["totals"]
    assert db.session.get(Deal, deal.id).stage_id == target.id
    event = db.session.scalar(select(HistoryEvent).where(HistoryEvent.record_type == "deal",
                                                        HistoryEvent.record_id == deal.id, HistoryEvent.field == "stage_id"))
    assert event.new == str(target.id) and event.actor_id == admin.id


def test_a_refused_move_answers_with_a_message_and_changes_nothing(client, auth):
    mate = user("rep2@example.com")
    deal = db.session.scalar(select(Deal).where(Deal.owner_id == mate.id).limit(1))
    stage_id = deal.stage_id
    other = next(s for s in deal.pipeline.stages if s.id != stage_id)
    auth.login("rep1@example.com")
    response = client.post(f"/pipeline/deals/{deal.id}/move", data={"to": f"stage:{other.id}"}, headers=JSON)
    assert response.status_code == 403 and not response.json["ok"] and response.json["message"]
    assert db.session.get(Deal, deal.id).stage_id == stage_id


def test_a_move_to_an_unknown_stage_is_explained(client, auth):
    auth.login()
    response = client.post("/pipeline/deals/1/move", data={"to": "stage:9999"}, headers=JSON)
    assert response.status_code == 409 and "does not exist" in response.json["message"]


def test_the_move_menu_works_without_javascript_and_keeps_the_filter(client, auth):
    deal = db.session.get(Deal, 1)
    target = next(s for s in deal.pipeline.stages if s.id != deal.stage_id)
    auth.login()
    html = client.get(f"/pipeline?pipeline={deal.pipeline_id}").get_data(as_text=True)
    assert f'formaction="/pipeline/deals/{deal.id}/move" formmethod="post" name="to" value="stage:{target.id}"' in html
    response = client.post(f"/pipeline/deals/{deal.id}/move",
                           data={"to": f"stage:{target.id}", "pipeline": str(deal.pipeline_id), "q": "a", "ids": "1"})
    assert response.status_code == 303
    assert response.location == f"/pipeline?pipeline={deal.pipeline_id}&q=a#deal-{deal.id}"  # back at the card
    assert db.session.get(Deal, deal.id).stage_id == target.id


def test_dropping_on_won_or_lost_moves_to_that_stage(client, auth):
    deal = db.session.scalar(select(Deal).join(Stage, Stage.id == Deal.stage_id).where(~Stage.is_won, ~Stage.is_lost).limit(1))
    auth.login()
    client.post(f"/pipeline/deals/{deal.id}/move", data={"to": "won"}, headers=JSON)
    assert db.session.get(Deal, deal.id).stage.is_won
    client.post(f"/pipeline/deals/{deal.id}/move", data={"to": "lost"}, headers=JSON)
    assert db.session.get(Deal, deal.id).stage.is_lost


def test_dropping_on_delete_moves_the_deal_to_the_trash(client, auth):
    auth.login()
    response = client.post("/pipeline/deals/1/move", data={"to": "trash"}, headers=JSON)
    assert response.json["ok"] and response.json["stage_id"] is None
    assert db.session.get(Deal, 1).deleted_at is not None


def test_dropping_on_move_to_leads_converts_the_deal(client, auth):
    auth.login()
    response = client.post("/pipeline/deals/1/move", data={"to": "lead"}, headers=JSON)
    assert response.json["ok"] and "is now a lead" in response.json["message"]
    assert db.session.get(Deal, 1).deleted_at is not None


def test_the_board_offers_drop_zones_and_a_selection_for_the_mass_change_drawer(client, auth):
    auth.login()
    html = client.get("/pipeline").get_data(as_text=True)
    for zone in ("Move to leads", "Won", "Lost", "Delete"):
        assert f"<span>{zone}</span>" in html
    assert 'id="board-selection"' in html and 'name="type" value="deal"' in html
    assert 'name="ids" value="' in html and 'name="all" value="1"' in html


def test_cards_a_rep_may_not_change_have_no_handle_and_no_menu(client, auth):
    mate = user("rep2@example.com")
    deal = db.session.scalar(select(Deal).where(Deal.owner_id == mate.id).limit(1))
    auth.login("rep1@example.com")
    html = client.get(f"/pipeline?pipeline={deal.pipeline_id}").get_data(as_text=True)
    card = html[html.index(f'id="deal-{deal.id}"') - 40:]
    card = card[:card.index("</li>")]
    assert "locked" in card and "drag-handle" not in card and "Move to…" not in card


def test_reps_get_no_selection_controls_on_the_board(client, auth):
    auth.login("rep1@example.com")
    page = client.get("/pipeline").get_data(as_text=True)
    assert "matching the filter</span></label>" not in page and 'name="ids"' not in page
    auth.logout()
    auth.login("manager@example.com")
    page = client.get("/pipeline").get_data(as_text=True)
    assert "matching the filter</span></label>" in page and 'name="ids"' in page


def test_the_menu_asks_before_a_deal_leaves_the_board_without_javascript(client, auth):
    """Move to… → Leads or → Trash asks the drag's question first; nothing changes until confirmed."""
    deal = db.session.get(Deal, 1)
    auth.login()
    for target, question in (("lead", f"Convert “{deal.title}” into a lead? The deal goes to the trash."),
                             ("trash", f"Move “{deal.title}” to the trash?")):
        page = client.post(f"/pipeline/deals/{deal.id}/move", data={"to": target, "q": "a"})
        html = page.get_data(as_text=True)
        assert page.status_code == 200 and f"<h1 id=\"confirm-move-title\">{question}</h1>" in html
        assert 'name="confirmed" value="1"' in html and 'name="q" value="a"' in html
        assert db.session.get(Deal, deal.id).deleted_at is None
        board = client.get(f"/pipeline?pipeline={deal.pipeline_id}").get_data(as_text=True)
        assert f'data-confirm="{question.replace(deal.title, "{title}")}"' in board  # the drag asks the same
    response = client.post(f"/pipeline/deals/{deal.id}/move", data={"to": "trash", "confirmed": "1", "q": "a"})
    assert response.status_code == 303 and response.location.endswith("/pipeline?q=a")
    assert db.session.get(Deal, deal.id).deleted_at is not None


def test_a_move_answers_with_the_boards_new_count(client, auth):
    auth.login()
    deal = db.session.get(Deal, 1)
    before = db.session.scalar(select(func.count(Deal.id)).where(Deal.pipeline_id == deal.pipeline_id,
                                                                Deal.deleted_at.is_(None)))
    response = client.post(f"/pipeline/deals/{deal.id}/move", data={"to": "trash", "pipeline": deal.pipeline_id},
                           headers=JSON)
    count = response.json["count"]
    assert count["total"] == before - 1 and count["number"] == f"{before - 1:,}"
    assert count["words"] == f"deals in {deal.pipeline.name}"
    assert count["select_all"] == f"Select all {before - 1:,} matching the filter"
