"""Counts agree with their verb: "1 lead matches the filter", "2 leads match the filter"."""
from crm.extensions import db
from crm.models import Deal, Lead


def test_one_matching_lead_matches_the_filter(client, auth):
    lead = db.session.get(Lead, 1)
    lead.email = "only-one@qa.example"
    db.session.commit()
    auth.login()
    text = client.get("/leads/?q=only-one@qa.example").get_data(as_text=True)
    assert "</strong> lead matches the filter" in text and "lead match the filter" not in text
    text = client.get("/leads/?q=e").get_data(as_text=True)
    assert "leads match the filter" in text


def test_one_matching_deal_on_the_board_matches_the_filter(client, auth):
    deal = db.session.get(Deal, 1)
    deal.email = "only-one@qa.example"
    db.session.commit()
    auth.login()
    text = client.get(f"/pipeline?pipeline={deal.pipeline_id}&q=only-one@qa.example").get_data(as_text=True)
    assert "</strong> <span data-board-count-words>deal in" in text and "matches the filter" in text
