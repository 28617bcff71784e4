"""Demo territories."""
from sqlalchemy import select
from sqlalchemy.orm import Session

from crm.models import Territory, User
from crm.services.territories.index import INDEX_KEY

DEMO_TERRITORIES = [
    # name, owner email, colour, outline as [lat, lng]
    ("Iberia", "rep4@example.com", "#e4572e",
     [[43.9, -9.8], [43.9, 3.6], [41.5, 3.6], [36.0, -1.5], [35.8, -6.0], [36.8, -9.8]]),
    ("Benelux", "rep2@example.com", "#17bebb",
     [[53.7, 3.0], [53.7, 7.3], [49.4, 6.6], [49.4, 2.4], [51.2, 2.4]]),
    ("Scandinavia South", "rep1@example.com", "#76b041",
     [[61.0, 10.5], [61.0, 18.9], [55.2, 14.8], [55.2, 12.3], [58.9, 10.5]]),
]


def seed_demo_territories(session: Session) -> None:
    """A few territories so the demo map has some; they never auto-assign (seeded owners stay).
    Seeded before the records, which get their territory as they are inserted (`with_territories`)."""
    from crm.services.geometry import read_latlngs
    owners = dict(session.execute(select(User.email, User.id)).all())
    for name, email, color, outline in DEMO_TERRITORIES:
        session.add(Territory(name=name, geojson=read_latlngs(outline).to_geojson(),
                              owner_id=owners.get(email), auto_assign=False, color=color))
    session.flush()
    session.info.pop(INDEX_KEY, None)
