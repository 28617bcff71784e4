"""The authorization matrix, generated from app.url_map: every route × admin / manager / rep /
anonymous × the viewer's own record, a team-mate's and another team's. A refused request must be
refused (401/403/404, or the login page) AND leave the database exactly as it was; an allowed one
must not be refused or fail. Every route must have a rule here, so a new route joins the matrix.

One test walks the whole matrix on one seeded database (fast: no re-seeding per case); allowed
writes change it, so each case picks a fitting record when it runs.
"""
import hashlib
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select, text

from crm.extensions import db
from crm.models import (
    Activity, ApiToken, AssignmentRule, Batch, Contact, CustomField, Deal, HistoryEvent, Job, Lead, LeadStatus,
    Organization, Pool, PoolMember, SavedList, ScoringRule, Stage, Team, Territory, User, WebhookDelivery,
    WebhookSubscription,
)
from crm.models.mixins import utcnow
from crm.models.pools import CaptureForm, ImportJob
from crm.services.api_tokens import issue_token
from crm.services.history import open_batch

ROLES = ("anonymous", "rep", "manager", "admin")  # admins last: their allowed writes change the most
EMAIL = {"admin": "admin@example.com", "manager": "manager@example.com", "rep": "rep1@example.com"}
SCOPES = {"admin": ("other",), "manager": ("team", "other"), "rep": ("own", "team", "other"), "anonymous": ("other",)}
MODELS = {"leads": Lead, "deals": Deal, "contacts": Contact, "organizations": Organization}
REFUSED = (401, 403, 404)
ORIGIN = {"Origin": "http://localhost"}  # the public capture form accepts posts from its own site

# Who may use a route: "public"; "user" (any logged-in user); "view"/"edit" (the record named in the
# URL: reps see their team's records and change their own, managers their team's, admins all);
# "manager" (admins and managers); "admin"; "batch" (the batch page's rule: own or team's batches);
# "owner" (the row belongs to the viewer: a job, a smart list); "token" (API writes: a token only).
RULES = {
    "auth.login": "public", "capture.show_form": "public", "capture.submit_form": "public",
    "assets.vendor": "public", "static": "public", "health.healthz": "public", "health.readyz": "public",
    "home": "user", "auth.logout": "user", "auth.account": "user", "auth.choose_language": "user",
    "activity.feed": "user", "jobs.notifications": "user",
    "jobs.mark_read": "user", "lists.save": "user", "merge.check_new": "user", "merge.duplicates": "user",
    "pipeline.board": "user", "pipeline.column": "user", "map.index": "user", "map.points": "user",
    "map.lasso": "user", "map.place_labels": "user", "map.search_places": "user",
    "api.list_records": "user", "bulk.trash": "user",
    "merge.similar": "view", "merge.similar_link": "view", "map.popup": "view", "api.show_record": "view",
    "pipeline.move": "edit", "pipeline.convert_deal": "edit", "pipeline.convert_lead_dialog": "edit",
    "merge.panel": "edit", "bulk.restore": "edit",
    "bulk.drawer": "manager", "bulk.apply": "manager", "pipeline.convert_deals": "user",
    "imports.index": "manager", "imports.upload": "manager", "imports.show": "manager", "imports.start": "manager",
    "imports.rejects": "manager", "bulk.undo": "manager", "bulk.restore_deleted_batch": "manager",
    "merge.undo": "manager", "merge.undo_page": "manager", "bulk.show_batch": "batch", "jobs.show_job": "owner", "lists.open_list": "owner",
    "lists.delete": "owner", "api.create": "token",
    "today.index": "user", "today.complete": "edit", "today.log_call": "edit", "today.plan_next": "edit",
    "map.add_territory": "admin", "map.edit_territory": "admin", "map.remove_territory": "admin",
    "api-docs.openapi_json": "public", "api_docs.api_docs": "public", "api_records.": "token",
    "api_engagement.": "token", "api_bulk.": "token", "tokens.index": "user", "tokens.create": "user",
    "tokens.revoke_token": "owner",
}
for _prefix in ("admin.", "webhooks.", "capture.create_form", "capture.edit_form", "capture.forms", "pools."):
    RULES.setdefault(_prefix, "admin")
for _plural in MODELS:
    RULES.update({f"{_plural}.index": "user", f"{_plural}.new": "user", f"{_plural}.show": "view",
                  f"{_plural}.export": "user"})
    RULES.update({f"{_plural}.{v}": "edit" for v in ("edit", "trash", "restore", "add_note", "add_activity",
                                                    "log_email", "complete_activity", "reopen_activity")})


def rule_for(endpoint: str) -> str | None:
    return RULES.get(endpoint) or next((r for p, r in RULES.items() if p.endswith(".") and endpoint.startswith(p)), None)


@dataclass
class Case:
    method: str
    url: str
    data: dict


def fingerprint() -> str:
    """Every table's row count and a checksum of its rows (small seed: cheap)."""
    db.session.expire_all()
    digest = hashlib.sha256()
    for table in db.metadata.sorted_tables:
        if table.name in ("job", "notification"):  # polling and reading them may touch these
            continue
        rows = db.session.execute(select(table).order_by(*table.primary_key.columns)).all()
        digest.update(f"{table.name}:{len(rows)}:{rows!r}".encode())
    return digest.hexdigest()


def user(role: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == EMAIL[role])) if role in EMAIL else None


def a_record(model, role: str, scope: str, *, trashed: bool = False):
    """A live (or trashed) record of `model` in the viewer's scope: their own, a team-mate's, another team's."""
    viewer = user(role)
    where = [model.deleted_at.is_not(None) if trashed else model.deleted_at.is_(None)]
    if model is Lead:
        where.append(Lead.converted_at.is_(None))
    north = db.session.scalar(select(Team.id).where(Team.name == "North"))
    if scope == "own":
        where.append(model.owner_id == viewer.id)
    elif scope == "team":
        where += [model.team_id == north] + ([model.owner_id != viewer.id] if viewer else [])
    else:  # another team than the viewer's (South for North users; any team for admin and anonymous)
        where.append(model.team_id != north)
    record = db.session.scalars(select(model).where(*where).order_by(model.id.desc())).first()
    assert record is not None, (model.__name__, role, scope, trashed)
    return record


def setup_objects() -> dict:
    """Batches, a job, a smart list, an import, trashed records: what the routes' ids point at."""
    admin, manager, rep = user("admin"), user("manager"), user("rep")
    objects = {"batch": {}, "job": {}, "list": {}, "token": {}}
    for who in (admin, manager):
        batch = open_batch(db.session, who.id, "reassign", "lead", 1, f"{who.name} reassigned a lead")
        lead = db.session.scalars(select(Lead).where(Lead.team_id.is_not(None)).order_by(Lead.id)).first()
        db.session.add(HistoryEvent(record_type="lead", record_id=lead.id, actor_id=who.id, kind="update",
                                    field="source", old="Old", new=lead.source, batch_id=batch.id))
        objects["batch"][who.role] = batch.id
    for who in (admin, rep):
        job = Job(id=f"job-{who.id}", kind="import", actor_id=who.id, status="done")
        saved = SavedList(name=f"List of {who.name}", record_type="lead", owner_id=who.id, query="", shared=False)
        db.session.add_all([job, saved])
        db.session.flush()
        objects["job"][who.role], objects["list"][who.role] = job.id, saved.id
        issue_token(db.session, who, f"Matrix token of {who.name}")
        objects["token"][who.role] = db.session.scalar(select(ApiToken.id).where(ApiToken.user_id == who.id))
    for model in MODELS.values():  # a trashed record in every scope (Restore needs one)
        for where in ([model.owner_id == rep.id], [model.team_id == rep.team_id, model.owner_id != rep.id],
                      [model.team_id != rep.team_id]):
            row = db.session.scalars(select(model).where(*where, model.deleted_at.is_(None)).order_by(model.id)).first()
            if row is not None:
                row.deleted_at = utcnow() - timedelta(days=1)
    db.session.add_all([Pool(name="Matrix pool", record_type="lead", members=[PoolMember(user_id=rep.id, position=0)]),
                        CaptureForm(name="Matrix form", slug="matrix", fields=["person_name", "email"], owner_choice="",
                                    source="Web", allowed_origins=""),
                        CustomField(record_type="lead", key="matrix", label="Matrix", kind="text", choices=[],
                                    position=0)])
    imp = ImportJob(id="imp-matrix", actor_id=manager.id, record_type="lead", filename="x.csv", path="/nonexistent",
                    encoding="utf-8", delimiter=",", headers=["Name"], row_count=1, mapping={}, owner_choice="")
    db.session.add(imp)
    objects["import"] = imp.id
    db.session.commit()
    return objects


def cases_for(rule, role: str, scope: str, objects: dict) -> list[Case]:
    """The concrete requests for one route, viewer and scope (ids filled in as the route needs)."""
    plural = "leads" if "plural" in rule.arguments else None
    prefix = rule.endpoint.split(".")[0]
    if prefix in MODELS:
        plural = prefix
    model = MODELS.get(plural or "leads")
    trashed = rule.endpoint.endswith((".restore", "bulk.restore"))
    record = a_record(model, "rep" if role == "anonymous" else role, scope, trashed=trashed) \
        if {"record_id", "deal_id", "lead_id", "activity_id"} & set(rule.arguments) or rule.endpoint == "bulk.restore" \
        else None
    if rule.endpoint.startswith("pipeline.") and "deal_id" in rule.arguments:
        record = a_record(Deal, "rep" if role == "anonymous" else role, scope)
    if rule.endpoint == "pipeline.convert_lead_dialog":
        record = a_record(Lead, "rep" if role == "anonymous" else role, scope)
    values = {}
    for name in rule.arguments:
        match name:
            case "plural":
                values[name] = plural or "leads"
            case "record_id" | "deal_id" | "lead_id":
                values[name] = record.id
            case "activity_id":
                activity = Activity(kind="task", subject="Matrix", **{f"{model.__tablename__}_id": record.id})
                db.session.add(activity)
                db.session.commit()
                values[name] = activity.id
            case "batch_id":
                values[name] = objects["batch"]["admin" if scope == "other" else "manager"]
            case "job_id":
                values[name] = objects["job"]["rep" if (role, scope) == ("rep", "own") else "admin"]
            case "token_id":
                values[name] = objects["token"]["rep" if (role, scope) == ("rep", "own") else "admin"]
            case "subscription_id":
                values[name] = db.session.scalar(select(WebhookSubscription.id)) or 1
            case "delivery_id":
                values[name] = db.session.scalar(select(WebhookDelivery.id)) or 1
            case "list_id":
                values[name] = objects["list"]["rep" if (role, scope) == ("rep", "own") else "admin"]
            case "import_id":
                values[name] = objects["import"]
            case "slug":
                values[name] = db.session.scalar(select(CaptureForm.slug)) or "none"
            case "name" | "filename" | "path":
                values[name] = "htmx.js" if rule.endpoint == "assets.vendor" else "css/app.css"
            case "stage_id":
                values[name] = db.session.scalar(select(Stage.id).order_by(Stage.id))
            case "pool_id":
                values[name] = db.session.scalar(select(Pool.id).order_by(Pool.id))
            case "member_id":
                values[name] = db.session.scalar(select(PoolMember.id).order_by(PoolMember.id))
            case "status_id":
                values[name] = db.session.scalar(select(LeadStatus.id).order_by(LeadStatus.id.desc()))
            case "field_id":
                values[name] = db.session.scalar(select(CustomField.id)) or 1
            case "user_id":
                values[name] = user("rep").id
            case "territory_id":
                values[name] = db.session.scalar(select(Territory.id).order_by(Territory.id)) or 1
            case "form_id":
                values[name] = db.session.scalar(select(CaptureForm.id)) or 1
            case "rule_id":
                values[name] = db.session.scalar(select(ScoringRule.id)) or 1
            case "assignment_id":
                values[name] = db.session.scalar(select(AssignmentRule.id)) or 1
            case _:
                raise AssertionError(f"{rule.endpoint}: no value for <{name}>")
    url = rule.build(values, append_unknown=False)[1] if values or not rule.arguments else None
    if rule.endpoint == "merge.panel":
        other = db.session.scalars(select(model.id).where(model.id != record.id, model.deleted_at.is_(None),
                                                          model.team_id == record.team_id)).first() if record else None
        url += f"?ids={record.id if record else 1},{other or 1}"
    data = payload(rule.endpoint, record, role)
    return [Case(m, url, data) for m in sorted(rule.methods - {"HEAD", "OPTIONS"})]


def payload(endpoint: str, record, role: str) -> dict:
    """Form data that would change something if the request got through."""
    viewer = user(role)
    mine = f"user:{viewer.id}" if viewer else ""
    if endpoint.endswith(".edit"):
        return {"title": "Matrix edit", "name": "Matrix edit", "owner": mine}
    if endpoint.endswith(".add_note"):
        return {"body": "Matrix note"}
    if endpoint.endswith(".add_activity"):
        return {"kind": "task", "subject": "Matrix activity"}
    if endpoint.endswith(".log_email"):
        return {"subject": "Matrix email", "sender": "a@example.com", "recipient": "b@example.com"}
    if endpoint == "pipeline.move":
        return {"to": "won"}
    if endpoint in ("pipeline.convert_deal", "pipeline.convert_lead_dialog"):
        return {"confirm": "1", "customer": "new", "owner": mine}
    if endpoint == "bulk.restore":
        return {"type": "lead", "id": str(record.id) if record else ""}
    if endpoint == "bulk.apply":  # no count seen: allowed users get the drawer again (409)
        return {"type": "lead", "all": "1", "action": "reassign", "confirm": "REASSIGN", "new_owner": mine}
    if endpoint == "merge.panel":
        return {"survivor": str(record.id) if record else "", "owner": mine}
    if endpoint.startswith(("admin.", "pools.", "capture.")):  # changes that leave the walk's world usable
        return {"name": f"Matrix {role}", "enabled": "1", "direction": "down"}
    if endpoint == "map.add_territory":
        return {"name": "Matrix", "outline": "[[0,0],[0,1],[1,1]]"}
    return {}


def expected_refusal(kind: str, role: str, scope: str) -> bool:
    if kind == "public":
        return False
    if role == "anonymous":
        return True
    return {
        "user": False, "token": True,
        "view": role != "admin" and scope == "other",
        "edit": (role == "manager" and scope == "other") or (role == "rep" and scope != "own"),
        "manager": role == "rep",
        "admin": role != "admin",
        "batch": role == "rep" and scope == "other",
        "owner": role != "admin" and (role, scope) != ("rep", "own"),  # someone else's job or private list
    }[kind]


def test_every_route_for_every_role_and_scope(app):
    objects = setup_objects()
    rules = [r for r in app.url_map.iter_rules()]
    unclassified = sorted({r.endpoint for r in rules if rule_for(r.endpoint) is None})
    assert unclassified == [], f"routes without an authorization rule: {unclassified}"
    escapes, overreach, checked = [], [], 0
    for role in ROLES:
        client = app.test_client()
        if role != "anonymous":
            assert client.post("/login", data={"email": EMAIL[role], "password": "demo"}).status_code == 303, role
        for rule in rules:
            kind = rule_for(rule.endpoint)
            if rule.endpoint == "auth.logout":
                continue  # logging out ends the walk's own session; tested in test_auth.py
            for scope in SCOPES[role]:
                for case in cases_for(rule, role, scope, objects):
                    refused = expected_refusal(kind, role, scope)
                    before = fingerprint() if refused else None
                    response = getattr(client, case.method.lower())(case.url, data=case.data, headers=ORIGIN)
                    checked += 1
                    status = response.status_code
                    to_login = status in (302, 303) and "/login" in response.headers.get("Location", "")
                    if refused:  # refused: nothing shown (no 2xx) and nothing changed
                        if status < 300 or fingerprint() != before:
                            escapes.append((role, scope, case.method, case.url, status))
                    elif status >= 500 or status in (401, 403) or to_login:
                        overreach.append((role, scope, case.method, case.url, status))
    print(f"authorization matrix: {len(rules)} routes, {checked} requests, {len(escapes)} escapes")
    assert escapes == [], "\n".join(map(str, escapes))
    assert overreach == [], "\n".join(map(str, overreach))
