"""A person works the kanban: drags a card to another stage, drops one on "Move to leads", finds
the lead with its notes and upcoming activity, restores the deal from the trash, converts a lead."""
import re
from datetime import timedelta

from flask import current_app
from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from crm.extensions import db
from crm.models import Activity, Deal, Lead, Note, Organization, Pipeline, Stage
from crm.models.mixins import utcnow
from e2e.helpers import login


def drag(page: Page, card_id: int, target_selector: str, before_drop=None) -> None:
    """Drag a card by its handle with real mouse moves (SortableJS runs in fallback mode)."""
    handle = page.locator(f"#deal-{card_id} .drag-handle")
    handle.scroll_into_view_if_needed()
    box = handle.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + 20, box["y"] + 20, steps=5)
    target = page.locator(target_selector)
    expect(target).to_be_visible()
    tbox = target.bounding_box()
    page.mouse.move(tbox["x"] + tbox["width"] / 2, tbox["y"] + min(tbox["height"] / 2, 40), steps=15)
    expect(target.locator(f"#deal-{card_id}")).to_have_count(1)  # SortableJS moved the card's placeholder in
    if before_drop:
        before_drop()
    page.mouse.up()


def board_deal(app_db, *, pipeline: str = "Field sales") -> tuple[int, int, int]:
    """(deal id, its stage id, another open stage id) for a deal on an open stage of the pipeline."""
    with app_db():
        p = db.session.scalar(select(Pipeline).where(Pipeline.name == pipeline))
        open_stages = [s.id for s in p.stages if not (s.is_won or s.is_lost)]
        deal = db.session.scalar(select(Deal).where(Deal.stage_id.in_(open_stages), Deal.deleted_at.is_(None))
                                 .order_by(Deal.id).limit(1))
        return deal.id, deal.stage_id, next(s for s in open_stages if s != deal.stage_id)


def test_dragging_a_card_to_another_stage_saves_the_stage(page: Page, live_server, app_db):
    deal_id, _from, to = board_deal(app_db)
    with app_db():
        owner = db.session.get(Deal, deal_id).owner
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    login(page, live_server)
    page.goto(f"{live_server}/pipeline")
    page.get_by_label("Owner").select_option(label=owner.name)  # the board is swapped in by htmx
    expect(page).to_have_url(re.compile(rf"owner={owner.id}"))
    expect(page.locator(".deal-card").filter(has_text=owner.name).first).to_be_visible()
    expect(page.locator(".deal-card .card-meta").filter(has_not_text=owner.name)).to_have_count(0)
    drag(page, deal_id, f'.cards[data-target="stage:{to}"]')
    expect(page.get_by_role("status").filter(has_text="moved to")).to_be_visible()
    expect(page.locator(f'.cards[data-target="stage:{to}"] #deal-{deal_id}')).to_be_visible()
    with app_db():
        assert db.session.get(Deal, deal_id).stage_id == to
    page.reload()
    expect(page.locator(f'.cards[data-target="stage:{to}"] #deal-{deal_id}')).to_be_visible()
    assert errors == []  # neither the first load nor the htmx swaps throw


def test_move_to_leads_then_find_the_lead_and_restore_the_deal(page: Page, live_server, app_db):
    deal_id, stage_id, _to = board_deal(app_db)
    with app_db():
        db.session.add_all([Note(deal_id=deal_id, body="Call before 10 am"),
                            Activity(deal_id=deal_id, subject="Site visit next week",
                                     due_at=utcnow() + timedelta(days=5))])
        db.session.commit()
        title = db.session.get(Deal, deal_id).title
        on_board = db.session.scalar(select(func.count(Deal.id)).where(
            Deal.pipeline_id == db.session.get(Deal, deal_id).pipeline_id, Deal.deleted_at.is_(None)))
    login(page, live_server)
    page.goto(f"{live_server}/pipeline")
    expect(page.locator(".selection-bar .count")).to_have_text(f"{on_board} deals in Field sales")
    drag(page, deal_id, ".drop-zone.to-leads")
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("into a lead")
    dialog.get_by_role("button", name="Confirm").click()
    expect(page.locator(f"#deal-{deal_id}")).to_have_count(0)
    expect(page.get_by_role("status").filter(has_text="is now a lead")).to_be_visible()
    expect(page.locator(".selection-bar .count")).to_have_text(f"{on_board - 1} deals in Field sales")
    expect(page.get_by_text(f"Select all {on_board - 1} matching the filter")).to_be_visible()

    page.goto(f"{live_server}/leads/?source=Deal")
    page.get_by_role("link", name=title).first.click()
    lead_url = page.url
    expect(page.get_by_role("region", name="Notes")).to_contain_text("Call before 10 am")
    expect(page.get_by_role("region", name="Activities")).to_contain_text("Site visit next week")
    expect(page.locator("#timeline")).to_contain_text("converted: from deal")

    page.locator("#timeline").get_by_role("link", name="open the deal").click()
    expect(page.get_by_text("is in the trash")).to_be_visible()
    with app_db():
        trash_exists = "bulk.trash" in current_app.view_functions
    if trash_exists:
        page.goto(f"{live_server}/trash?type=deal")
        page.get_by_role("button", name=f"Restore {title}").click()
    else:
        page.get_by_role("button", name="Restore").click()
    expect(page.get_by_text(f"Its lead “{title}” went back to the trash with it")).to_be_visible()
    with app_db():
        deal = db.session.get(Deal, deal_id)
        assert deal.deleted_at is None and deal.stage_id == stage_id
    page.goto(f"{live_server}/pipeline")
    expect(page.locator(f'.cards[data-target="stage:{stage_id}"] #deal-{deal_id}')).to_be_visible()

    page.goto(lead_url)  # the customer is not there twice: the lead is in the trash ...
    expect(page.get_by_text("is in the trash")).to_be_visible()
    page.goto(f"{live_server}/deals/{deal_id}")  # ... and the deal has its note and activity back
    expect(page.get_by_role("region", name="Notes")).to_contain_text("Call before 10 am")
    expect(page.get_by_role("region", name="Activities")).to_contain_text("Site visit next week")
    expect(page.locator("#timeline")).to_contain_text(f"conversion to lead “{title}” taken back")


def test_a_failed_drop_puts_the_card_back_with_a_message(page: Page, live_server, app_db):
    deal_id, from_stage, to = board_deal(app_db)
    login(page, live_server)
    page.goto(f"{live_server}/pipeline")
    with app_db():  # someone else deletes the deal while the board is open
        db.session.get(Deal, deal_id).deleted_at = utcnow()
        db.session.commit()
    drag(page, deal_id, f'.cards[data-target="stage:{to}"]')
    expect(page.locator("#board-status")).to_contain_text("in the trash")
    expect(page.locator(f'.cards[data-target="stage:{from_stage}"] #deal-{deal_id}')).to_be_visible()


def test_convert_a_lead_linking_an_existing_organization(page: Page, live_server, app_db):
    with app_db():
        org = db.session.scalar(select(Organization).order_by(Organization.id).limit(1))
        lead = db.session.scalar(select(Lead).where(Lead.converted_at.is_(None)).order_by(Lead.id).limit(1))
        lead.company_name, lead.person_name = org.name, "Pia Newcomer"
        org_id, org_name, lead_id = org.id, org.name, lead.id
        db.session.commit()
    login(page, live_server)
    page.goto(f"{live_server}/leads/{lead_id}")
    page.get_by_role("link", name="Convert", exact=True).click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_role("heading", name=re.compile("Convert"))).to_be_visible()
    expect(dialog.get_by_text("Pia Newcomer becomes a new contact of that organization")).to_be_visible()
    dialog.get_by_label("Link to an existing").check()
    dialog.get_by_label("Existing organization").select_option(str(org_id))
    dialog.get_by_label("Existing contact").select_option("")
    dialog.get_by_label("Pipeline and stage").select_option(label="Demo")
    dialog.get_by_role("button", name="Convert").click()
    expect(page.get_by_text("Lead converted into")).to_be_visible()
    expect(page.get_by_role("link", name=org_name).first).to_be_visible()
    with app_db():
        lead = db.session.get(Lead, lead_id)
        deal = db.session.get(Deal, lead.converted_deal_id)
        assert lead.converted_organization_id == org_id and deal.organization_id == org_id
        assert db.session.get(Stage, deal.stage_id).name == "Demo"
        contact_id, deal_title = deal.contact_id, deal.title
        assert deal.contact.name == "Pia Newcomer" and deal.contact.organization_id == org_id  # nobody lost
    page.goto(f"{live_server}/leads/{lead_id}")
    expect(page.locator(".converted-links")).to_contain_text("Converted")
    expect(page.get_by_role("link", name="Edit")).to_have_count(0)
    # the organization's page leads to its new contact and deal, the contact's page to the deal
    page.goto(f"{live_server}/organizations/{org_id}")
    contacts = page.get_by_role("region", name=re.compile(r"^Contacts \(\d+\)$"))
    contacts.get_by_role("link", name="Pia Newcomer").click()
    expect(page).to_have_url(f"{live_server}/contacts/{contact_id}")
    page.get_by_role("region", name="Deals (1)").get_by_role("link", name=deal_title).click()
    expect(page).to_have_url(f"{live_server}/deals/{lead.converted_deal_id}")


def test_the_move_menu_asks_like_a_drag_and_gives_focus_back_to_the_card(page: Page, live_server, app_db):
    """The keyboard path: Move to… → Leads asks the drop zone's question; a stage move keeps focus on the card."""
    deal_id, _from, to = board_deal(app_db)
    with app_db():
        title, to_name = db.session.get(Deal, deal_id).title, db.session.get(Stage, to).name
    login(page, live_server)
    page.goto(f"{live_server}/pipeline")
    card = page.locator(f"#deal-{deal_id}")
    card.get_by_text("Move to…").focus()
    page.keyboard.press("Enter")
    card.get_by_role("button", name="Leads").focus()
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text(f"Convert “{title}” into a lead? The deal goes to the trash.")
    dialog.get_by_role("button", name="Cancel").click()
    expect(page.get_by_role("status").filter(has_text="Nothing changed.")).to_be_visible()
    expect(card.locator(".card-title")).to_be_focused()
    with app_db():
        assert db.session.get(Deal, deal_id).deleted_at is None
    card.get_by_text("Move to…").click()
    card.get_by_role("button", name=to_name).click()
    expect(page.locator(f'.cards[data-target="stage:{to}"] #deal-{deal_id}')).to_be_visible()
    expect(card.locator(".card-title")).to_be_focused()
    expect(card.get_by_role("button", name=to_name, exact=True)).to_be_hidden()  # the menu follows the card
    with app_db():
        assert db.session.get(Deal, deal_id).stage_id == to


def test_on_a_phone_cards_move_with_their_menu_and_selection_controls_are_gone(page: Page, live_server, app_db):
    """At 375 px there is no dragging and no mass change; a rep moves their own card with Move to…."""
    page.set_viewport_size({"width": 375, "height": 800})
    login(page, live_server)
    page.goto(f"{live_server}/pipeline")
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"/pipeline scrolls sideways by {overflow}px at 375 px"
    board = page.locator("[data-board]")
    assert board.evaluate("b => b.scrollWidth > b.clientWidth")
    expect(page.locator(".drag-handle").first).to_be_hidden()
    expect(page.get_by_text(re.compile(r"Select all \d+ matching"))).to_be_hidden()
    expect(page.get_by_role("button", name=re.compile("Mass change"))).to_be_hidden()
    board.evaluate("b => b.scrollLeft = 600")
    assert board.evaluate("b => b.scrollLeft") > 0
    page.get_by_role("button", name="Log out").click()

    with app_db():
        rep = db.session.scalar(select(Deal.owner_id).where(Deal.deleted_at.is_(None)).order_by(Deal.id))
        from crm.models import User
        email = db.session.get(User, rep).email
        deal_id = db.session.scalar(select(Deal.id).where(Deal.owner_id == rep, Deal.deleted_at.is_(None))
                                    .order_by(Deal.id))
        pipeline_id = db.session.get(Deal, deal_id).pipeline_id
    login(page, live_server, email)
    page.goto(f"{live_server}/pipeline?pipeline={pipeline_id}")
    card = page.locator(f"#deal-{deal_id}")
    card.scroll_into_view_if_needed()
    menu = card.get_by_text("Move to…")
    expect(menu).to_be_visible()
    box = menu.bounding_box()
    assert box["height"] >= 44 and box["width"] >= 44
    menu.click()
    card.get_by_role("button", name="Trash").click()
    page.get_by_role("dialog").get_by_role("button", name="Confirm").click()
    expect(page.locator(f"#deal-{deal_id}")).to_have_count(0)
    expect(page.get_by_role("status").filter(has_text="moved to the trash")).to_be_visible()
    with app_db():
        assert db.session.get(Deal, deal_id).deleted_at is not None


def test_a_long_column_loads_more_cards_on_scroll(page: Page, live_server, app_db):
    with app_db():
        p = db.session.scalar(select(Pipeline).where(Pipeline.name == "Field sales"))
        stage = p.stages[0]
        db.session.add_all([Deal(title=f"Scroll deal {i:02}", pipeline_id=p.id, stage_id=stage.id, owner_id=1)
                            for i in range(30)])
        db.session.commit()
        total = db.session.scalar(select(func.count(Deal.id)).where(Deal.stage_id == stage.id, Deal.deleted_at.is_(None)))
    login(page, live_server)
    page.goto(f"{live_server}/pipeline")
    column = page.locator(f'.cards[data-target="stage:{stage.id}"]')
    expect(column.locator(".deal-card")).to_have_count(20)
    for _ in range(3):  # scroll "load more" into view until every card is there
        shown = column.locator(".deal-card").count()
        if shown == total:
            break
        column.locator(".load-more").scroll_into_view_if_needed()
        expect(column.locator(".deal-card")).not_to_have_count(shown)
    expect(column.locator(".deal-card")).to_have_count(total)
    expect(column.locator(".load-more")).to_have_count(0)


def test_ticked_cards_open_the_mass_change_drawer(page: Page, live_server, app_db):
    deal_id, _stage, _to = board_deal(app_db)
    login(page, live_server)
    page.goto(f"{live_server}/pipeline")
    page.locator(f"#deal-{deal_id} input[name=ids]").check()
    page.get_by_role("button", name=re.compile("Mass change")).click()
    expect(page.locator("#drawer")).to_contain_text("1")
    expect(page.locator("#drawer").get_by_role("heading").first).to_be_visible()


def test_convert_to_lead_on_the_deal_page_asks_first(page: Page, live_server, app_db):
    deal_id, _stage, _to = board_deal(app_db)
    with app_db():
        title = db.session.get(Deal, deal_id).title
    login(page, live_server)
    page.goto(f"{live_server}/deals/{deal_id}")
    page.get_by_label("More actions").click()
    page.get_by_role("link", name="Convert to lead").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text(f"Convert “{title}” to a lead?")
    expect(dialog).to_contain_text("owned by you")
    dialog.get_by_role("link", name="Cancel").click()
    expect(dialog).to_be_hidden()
    with app_db():
        assert db.session.get(Deal, deal_id).deleted_at is None  # asking converted nothing

    page.get_by_role("link", name="Convert to lead").click()
    page.get_by_role("dialog").get_by_role("button", name="Convert to lead").click()
    expect(page).to_have_url(re.compile(r"/leads/\d+$"))
    expect(page.get_by_text(f"“{title}” is now a lead")).to_be_visible()
