"""Believable demo data: users, teams, pipelines, organizations, contacts, leads and deals, with
activities, notes, emails and custom field values on the first records."""
import random
import unicodedata
from datetime import timedelta
from functools import cache
from decimal import Decimal

from sqlalchemy import func, insert, literal, select, update
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from crm.models import (
    Activity, Contact, CustomField, Deal, EmailMessage, HistoryEvent, Lead, LeadStatus, Note, Organization,
    Pipeline, Role, Setting, Stage, Team, User,
)
from crm.models.mixins import utcnow
from crm.services.geo import big_cities
from crm.services.territories import seed_demo_territories, with_territories

DEMO_PASSWORD = "demo"
COUNTRIES = {"SE": "Sweden", "DE": "Germany", "NL": "Netherlands", "GB": "United Kingdom",
             "ES": "Spain", "FR": "France", "IT": "Italy", "PT": "Portugal"}
FIRST = ["Ana", "Lars", "Sofia", "Jonas", "Emma", "Luca", "Marta", "Pieter", "Chloé", "Hugo",
         "Ines", "Oliver", "Greta", "Mateo", "Nora", "Elias", "Lucía", "Finn", "Julia", "Tomás",
         "Astrid", "Bruno", "Carla", "Dario", "Elin", "Fabio", "Gemma", "Henrik", "Irene", "Jan",
         "Klara", "Leon", "Mila", "Nils", "Olga", "Paolo", "Quentin", "Rosa", "Sven", "Tess",
         "Ugo", "Vera", "Wim", "Xavier", "Yara", "Zoe", "Alba", "Bram", "Cleo", "Diego"]
LAST = ["Ruiz", "Andersson", "Rossi", "Müller", "de Vries", "Martin", "Silva", "Smith", "Berg",
        "García", "Dubois", "Bianchi", "Jansen", "Costa", "Lindqvist", "Weber", "Moreau", "Brown",
        "Nilsson", "Fischer", "Ricci", "Bakker", "Lefebvre", "Santos", "Taylor", "Holm", "López",
        "Girard", "Romano", "Visser", "Pereira", "Wilson", "Ek", "Schmidt", "Conti", "Mulder",
        "Fontaine", "Ferreira", "Evans", "Sandberg", "Hoffmann", "Greco", "Smit", "Lambert",
        "Almeida", "Walker", "Lund", "Wagner", "Marino", "Dekker"]
COMPANY_A = ["Nordic", "Atlas", "Blue", "Iberia", "Alpine", "Harbor", "Summit", "Polar", "Delta",
             "Solar", "Vista", "Orion", "Granite", "Cedar", "Lumen", "Vertex", "Aurora", "Beacon",
             "Crest", "Dune", "Ember", "Fjord", "Glacier", "Helix", "Ion", "Juniper", "Kestrel",
             "Linden", "Meridian", "Nimbus", "Oak", "Pinnacle", "Quarry", "Riverside", "Sierra",
             "Tundra", "Umber", "Valley", "Willow", "Zenith"]
COMPANY_B = ["Logistics", "Foods", "Retail", "Clinics", "Builders", "Energy", "Motors", "Labs",
             "Hotels", "Pharma", "Textiles", "Analytics", "Farms", "Media", "Dental", "Marine",
             "Robotics", "Bakeries", "Optics", "Print", "Security", "Telecom", "Water", "Wines",
             "Cycles", "Studios", "Freight", "Solar", "Tools", "Vending"]
SOURCES = ["Website", "Referral", "Trade show", "Cold call", "Partner", "Web form", "Import"]
LEAD_STATUSES = [("New", "open"), ("Contacted", "open"), ("Qualified", "open"),
                 ("Unqualified", "lost"), ("Converted", "converted")]
PIPELINES = {
    "Field sales": ["Prospect", "Visit planned", "Demo", "Proposal", "Negotiation", "Won", "Lost"],
    "Renewals": ["Up for renewal", "In talks", "Renewed", "Churned"],
}
WON, LOST = {"Won", "Renewed"}, {"Lost", "Churned"}


def database_is_empty(session: Session) -> bool:
    return session.scalar(select(func.count(User.id))) == 0


def seed_demo(session: Session, *, leads: int = 2000, deals: int = 500, seed: int = 7) -> None:
    """Fill an empty database. Bulk rows go in with set-based INSERTs, so 100,000 leads take seconds."""
    rng = random.Random(seed)
    users = _users(session)
    statuses = _statuses(session)
    stages = _pipelines(session)
    seed_demo_territories(session)  # first: records get their territory as they go in
    cities = [c for c in big_cities(tuple(COUNTRIES), 150_000)]
    orgs = _organizations(session, rng, users, cities, count=max(20, min(400, leads // 10)))
    twins = min(12, leads // 50)
    _leads(session, rng, users, statuses, cities, leads - twins)
    _duplicate_leads(session, rng, count=twins)
    _deals(session, rng, users, stages, orgs, cities, deals)
    _engagement(session, rng, users)
    _log_creation(session)
    session.merge(Setting(key="use_leads", value="yes"))


def _users(session: Session) -> list[User]:
    north, south = Team(name="North"), Team(name="South")
    session.add_all([north, south])
    people = [("Admin", "admin@example.com", Role.ADMIN, None),
              ("Maria Manager", "manager@example.com", Role.MANAGER, north),
              ("Ana Ruiz", "rep1@example.com", Role.REP, north),
              ("Lars Berg", "rep2@example.com", Role.REP, north),
              ("Sofia Rossi", "rep3@example.com", Role.REP, north),
              ("Hugo Martin", "rep4@example.com", Role.REP, south),
              ("Ines Silva", "rep5@example.com", Role.REP, south)]
    users = [User(name=name, email=email, role=role, team=team, password_hash=_demo_hash())
             for name, email, role, team in people]
    session.add_all(users)
    session.flush()
    return users


@cache
def _demo_hash() -> str:
    """One hash for every demo user: hashing is slow on purpose, and they share a password."""
    return generate_password_hash(DEMO_PASSWORD)


def _statuses(session: Session) -> list[LeadStatus]:
    statuses = [LeadStatus(name=n, kind=k, position=i) for i, (n, k) in enumerate(LEAD_STATUSES)]
    session.add_all(statuses)
    session.flush()
    return statuses


def _pipelines(session: Session) -> list[Stage]:
    stages = []
    for p, (name, names) in enumerate(PIPELINES.items()):
        pipeline = Pipeline(name=name, position=p)
        session.add(pipeline)
        stages += [Stage(pipeline=pipeline, name=s, position=i, is_won=s in WON, is_lost=s in LOST)
                   for i, s in enumerate(names)]
    session.add_all(stages)
    session.flush()
    return stages


def _place(rng: random.Random, cities: list[dict]) -> dict:
    city = rng.choice(cities[:60]) if rng.random() < 0.8 else rng.choice(cities)
    return dict(city=city["name"], country=COUNTRIES[city["countrycode"]],
                lat=round(city["latitude"] + rng.uniform(-0.08, 0.08), 6),
                lng=round(city["longitude"] + rng.uniform(-0.12, 0.12), 6))


def _owner_for(rng: random.Random, users: list[User], country: str) -> User:
    south = country in ("Spain", "France", "Italy", "Portugal")
    reps = [u for u in users if u.role == Role.REP and (u.team.name == "South") == south]
    return rng.choice(reps)


def _person(rng: random.Random) -> tuple[str, str]:
    first, last = rng.choice(FIRST), rng.choice(LAST)
    handle = unicodedata.normalize("NFKD", f"{first}.{last}".lower().replace(" ", ""))
    return f"{first} {last}", handle.encode("ascii", "ignore").decode()


def _company(rng: random.Random) -> str:
    return f"{rng.choice(COMPANY_A)} {rng.choice(COMPANY_B)}"


def _organizations(session, rng, users, cities, count: int) -> list[Organization]:
    rows = []
    for _ in range(count):
        place = _place(rng, cities)
        owner = _owner_for(rng, users, place["country"])
        name = _company(rng)
        rows.append(dict(name=name, owner_id=owner.id, team_id=owner.team_id,
                         website=f"https://{name.lower().replace(' ', '')}.example",
                         phone=f"+46 8 {rng.randint(100, 999)} {rng.randint(10, 99)} {rng.randint(10, 99)}",
                         **place))
    orgs = [Organization(**row) for row in with_territories(session, rows)]
    session.add_all(orgs)
    session.flush()
    contacts = []
    for org in orgs:
        for _ in range(rng.randint(1, 3)):
            name, handle = _person(rng)
            contacts.append(Contact(name=name, email=f"{handle}@{org.website[8:]}", organization_id=org.id,
                                    owner_id=org.owner_id, team_id=org.team_id, city=org.city,
                                    country=org.country, lat=org.lat, lng=org.lng, territory_id=org.territory_id,
                                    job_title=rng.choice(["CEO", "Buyer", "Head of Operations", "CFO"])))
    session.add_all(contacts)
    session.flush()
    return orgs


def _leads(session, rng, users, statuses, cities, count: int) -> None:
    now = utcnow()
    open_statuses = [s for s in statuses if s.kind == "open"]
    rows = []
    for i in range(count):
        place = _place(rng, cities) if rng.random() < 0.94 else dict(city="", country="", lat=None, lng=None)
        owner = _owner_for(rng, users, place["country"] or rng.choice(list(COUNTRIES.values())))
        name, handle = _person(rng)
        company = _company(rng)
        status = rng.choice(open_statuses) if rng.random() < 0.85 else rng.choice(statuses)
        created = now - timedelta(days=rng.randint(0, 365), minutes=rng.randint(0, 1440))
        rows.append(dict(
            title=f"{company} – {rng.choice(['fleet', 'rollout', 'pilot', 'upgrade', 'renewal'])}",
            person_name=name, company_name=company, email=f"{handle}{i}@example.com",
            phone=f"+34 6{rng.randint(10, 99)} {rng.randint(100, 999)} {rng.randint(100, 999)}",
            source=rng.choice(SOURCES), status_id=status.id, owner_id=owner.id, team_id=owner.team_id,
            value=Decimal(rng.randrange(1000, 90000, 500)), tags=rng.choice(["", "hot", "vip", "hot,vip", ""]),
            description="", custom={}, created_at=created, updated_at=created, address="", **place))
        if len(rows) == 5000:
            session.execute(insert(Lead), with_territories(session, rows))
            rows = []
    if rows:
        session.execute(insert(Lead), with_territories(session, rows))


def _duplicate_leads(session: Session, rng: random.Random, count: int) -> None:
    """A few leads entered twice, as happens in real life (other case, other phone format)."""
    originals = session.scalars(select(Lead).order_by(Lead.id).limit(count * 7)).all()[::7]
    for lead in originals:
        session.add(Lead(
            title=lead.title.replace("–", "-"), person_name=lead.person_name, company_name=lead.company_name,
            email=lead.email.upper() if rng.random() < 0.5 else lead.email, phone=lead.phone.replace(" ", ""),
            source="Web form", status_id=lead.status_id, owner_id=lead.owner_id, team_id=lead.team_id,
            value=lead.value, city=lead.city, country=lead.country, lat=lead.lat, lng=lead.lng,
            territory_id=lead.territory_id,
            created_at=lead.created_at + timedelta(days=rng.randint(1, 20)), custom={}))
    session.flush()


def _deals(session, rng, users, stages, orgs, cities, count: int) -> None:
    now = utcnow()
    contacts_by_org = {}
    for c in session.scalars(select(Contact)):
        contacts_by_org.setdefault(c.organization_id, []).append(c.id)
    rows = []
    for _ in range(count):
        org = rng.choice(orgs)
        stage = rng.choice(stages)
        created = now - timedelta(days=rng.randint(0, 300))
        rows.append(dict(
            title=f"{org.name} – {rng.choice(['annual plan', 'expansion', 'new sites', 'service deal'])}",
            value=Decimal(rng.randrange(2000, 150000, 500)), currency="EUR",
            pipeline_id=stage.pipeline_id, stage_id=stage.id, owner_id=org.owner_id, team_id=org.team_id,
            organization_id=org.id, contact_id=rng.choice(contacts_by_org[org.id]),
            expected_close=(now + timedelta(days=rng.randint(-30, 120))).date(), source=rng.choice(SOURCES),
            city=org.city, country=org.country, lat=org.lat, lng=org.lng, territory_id=org.territory_id,
            address="", custom={},
            email="", phone="", description="", created_at=created, updated_at=created))
    for start in range(0, len(rows), 5000):
        session.execute(insert(Deal), rows[start:start + 5000])


# Custom fields a new user finds filled in: (record type, key, label, kind, choices, a value per record).
DEMO_CUSTOM_FIELDS = (
    ("lead", "budget_code", "Budget code", "text", [], lambda rng: f"BC-{rng.randint(100, 999)}"),
    ("lead", "vehicles", "Vehicles", "number", [], lambda rng: rng.choice([4, 8, 12, 25, 40])),
    ("deal", "contract_term", "Contract term", "choice", ["12 months", "24 months", "36 months"],
     lambda rng: rng.choice(["12 months", "24 months", "36 months"])),
    ("contact", "language", "Preferred language", "choice", ["English", "German", "Spanish", "Swedish"],
     lambda rng: rng.choice(["English", "German", "Spanish", "Swedish"])),
    ("organization", "employees", "Employees", "number", [], lambda rng: rng.choice([12, 45, 120, 800])),
)
SUBJECTS = ["Intro call", "Site visit", "Send proposal", "Follow up"]
NOTES = ["Asked for pricing on 20 units.", "Decision expected after the board meeting.", "Prefers visits on Tuesdays."]
EMAILS = [("Pricing for the spring order", "Hello,\nas promised, the prices for 20 units are attached.\nBest regards"),
          ("Visit on Tuesday", "Hi,\nTuesday at 10 works for us. See you at the main entrance."),
          ("Re: Proposal", "Thanks for the proposal. We will come back after the board meeting.")]


def _engagement(session, rng, users) -> None:
    """Activities, notes, emails and custom field values on the first records of every type, so a new
    user finds every section of a record page filled (bulk seeds stay fast: only the first few hundred)."""
    now = utcnow()
    emails_of = dict(session.execute(select(User.id, User.email)).all())
    activities, notes, emails = [], [], []
    for model, kind, limit in ((Lead, "lead_id", 300), (Deal, "deal_id", 200), (Contact, "contact_id", 100),
                               (Organization, "organization_id", 60)):
        for rid, owner_id, address in session.execute(select(model.id, model.owner_id, model.email)
                                                      .order_by(model.id).limit(limit)):
            due = now + timedelta(days=rng.randint(-20, 20), hours=rng.randint(8, 17))
            activities.append({kind: rid, "kind": rng.choice(["call", "meeting", "task", "email"]),
                               "subject": rng.choice(SUBJECTS), "due_at": due, "done": due < now,
                               "owner_id": owner_id, "created_at": now})
            if rng.random() < 0.5:
                notes.append({kind: rid, "body": rng.choice(NOTES), "author_id": owner_id, "created_at": now})
            if rng.random() < 0.5:
                subject, body = rng.choice(EMAILS)
                emails.append({kind: rid, "subject": subject, "body": body, "sender": emails_of.get(owner_id, ""),
                               "recipient": address, "sent_at": now - timedelta(days=rng.randint(1, 40))})
    for model, rows in ((Activity, activities), (Note, notes), (EmailMessage, emails)):
        if rows:
            session.execute(insert(model), rows)
    _custom_values(session, rng)


def _custom_values(session: Session, rng: random.Random) -> None:
    """The demo's custom fields, with a value on the first records of their type."""
    models = {"lead": Lead, "deal": Deal, "contact": Contact, "organization": Organization}
    for position, (rtype, key, label, kind, choices, value) in enumerate(DEMO_CUSTOM_FIELDS):
        session.add(CustomField(record_type=rtype, key=key, label=label, kind=kind, choices=choices,
                                position=position))
        model = models[rtype]
        rows = [{"id": rid, "custom": {**(custom or {}), key: value(rng)}, "updated_at": updated}  # not edited
                for rid, custom, updated in session.execute(select(model.id, model.custom, model.updated_at)
                                                            .order_by(model.id).limit(200))]
        if rows:
            session.execute(update(model), rows)  # one UPDATE per row, by primary key
    session.flush()


def _log_creation(session: Session) -> None:
    for name, model in (("lead", Lead), ("deal", Deal), ("contact", Contact), ("organization", Organization)):
        session.execute(insert(HistoryEvent).from_select(
            ["record_type", "record_id", "actor_id", "kind", "at"],
            select(literal(name), model.id, literal(None), literal("create"), model.created_at)))
