"""The value-mapping step: a Salesforce lead export's statuses, sources and owners go in as the user chooses."""
from pathlib import Path

from sqlalchemy import func, select

from crm.extensions import db
from crm.models import Deal, Job, Lead, LeadStatus, Stage
from crm.models.pools import ImportMapping
from tests.import_steps import run, uid, upload

SALESFORCE = (Path(__file__).parent / "fixtures" / "salesforce-leads.csv").read_bytes()


def listed(imp) -> dict[str, dict[str, int]]:
    """What the page lists: {field: {value: rows}}."""
    db.session.refresh(imp)
    return {name: dict(values) for name, values in imp.unknown_values.items()}


def choices(imp, **by_field: dict[str, str]) -> dict[str, str]:
    """The value step's form fields for {field: {value in the file: choice}}."""
    form = {}
    for name, chosen in by_field.items():
        for n, (value, _rows) in enumerate(imp.unknown_values[name]):
            if value in chosen:
                form[f"value_{name}_{n}"] = chosen[value]
    return form


def status_id(name: str) -> str:
    return f"id:{db.session.scalar(select(LeadStatus.id).where(LeadStatus.name == name))}"


def salesforce_choices(imp) -> dict[str, str]:
    return choices(imp, status={"Open - Not Contacted": status_id("New"),
                                "Working - Contacted": status_id("Contacted"),
                                "Closed - Converted": status_id("Converted"), "Closed - Not Converted": "new"},
                   source={"Web": "text:Website", "Phone Inquiry": "new", "Partner Referral": "text:Partner",
                           "Purchased List": "new", "Other": ""},
                   owner={"Integration User": f"owner:user:{uid('rep2@example.com')}"}) | {"col_4": ""}


def test_a_salesforce_export_lists_its_unknown_values_and_goes_in_as_chosen(client, auth, app):
    auth.login()
    imp = upload(client, SALESFORCE, name="salesforce-leads.csv")
    assert listed(imp) == {
        "status": {"Open - Not Contacted": 8, "Working - Contacted": 8, "Closed - Converted": 3,
                   "Closed - Not Converted": 3},
        "source": {"Web": 7, "Phone Inquiry": 3, "Partner Referral": 3, "Purchased List": 3, "Other": 3},
        "owner": {"Integration User": 4}}
    page = client.get(f"/import/{imp.id}").get_data(as_text=True)
    assert "Values in the file" in page and "“Open - Not Contacted” becomes" in page
    assert "Create it as a new open status" in page and "Keep it as a new source" in page

    form = salesforce_choices(imp)
    dry = run(client, imp, mode="dry", **form)
    assert dry["counts"] == {"create": 21, "update": 0, "skip": 0, "reject": 1} and dry["formulas"] == 1
    assert db.session.scalar(select(func.count()).where(LeadStatus.name == "Closed - Not Converted")) == 0

    real = run(client, imp, **form)
    assert real["counts"] == dry["counts"]
    by_email = {lead.email: lead for lead in db.session.scalars(select(Lead).where(Lead.email.like("%.example")))}
    erik, giulia = by_email["erik.johansson@nordvik.example"], by_email["giulia.bianchi@ferramenta.example"]
    assert (erik.status.name, erik.source, erik.owner.name, erik.title) == ("New", "Website", "Ana Ruiz",
                                                                             "Nordvik Logistik AB")
    assert (erik.person_name, erik.address, erik.city, erik.country) == ("Erik Johansson", "Vasagatan 12",
                                                                         "Göteborg", "Sweden")
    statuses = db.session.execute(select(LeadStatus.name, func.count(Lead.id)).join(Lead.status)
                                  .where(Lead.email.like("%.example")).group_by(LeadStatus.name)).all()
    assert dict(statuses) == {"New": 8, "Contacted": 8, "Converted": 3, "Closed - Not Converted": 2}
    assert db.session.scalar(select(LeadStatus.kind).where(LeadStatus.name == "Closed - Not Converted")) == "open"
    sources = dict(db.session.execute(select(Lead.source, func.count()).where(Lead.email.like("%.example"))
                                      .group_by(Lead.source)).all())
    assert sources == {"Website": 7, "Phone Inquiry": 3, "Partner": 3, "Purchased List": 2, "Import": 3,
                       "Referral": 3}
    integration = [l for l in by_email.values() if l.owner_id == uid("rep2@example.com")]
    assert len(integration) == 4 + 4  # Lars Berg's own rows and the Integration User's
    assert giulia.title == "Ferramenta Bianchi S.r.l."  # the job title column was left out


def test_the_choices_are_remembered_for_the_next_file_with_the_same_columns(client, auth, app):
    auth.login()
    first = upload(client, SALESFORCE, name="salesforce-leads.csv")
    run(client, first, **salesforce_choices(first))
    again = upload(client, SALESFORCE, name="salesforce-leads-2.csv")
    assert "Closed - Not Converted" not in listed(again)["status"]  # created by the first run: known now
    assert again.value_map["status"]["open - not contacted"] == status_id("New")
    # Sources kept as new by the first run are known now; the others were remembered.
    assert again.value_map["source"] == {"web": "text:Website", "partner referral": "text:Partner", "other": ""}
    report = run(client, again, mode="dry", unknown=None, duplicates="create", col_4="")  # nothing to choose: it runs
    assert report["counts"]["create"] == 21
    assert db.session.scalar(select(func.count(ImportMapping.id))) == 1


def test_a_run_with_values_not_yet_chosen_stops_at_the_value_step(client, auth, app):
    auth.login()
    imp = upload(client, SALESFORCE, name="salesforce-leads.csv")
    mapping = {f"col_{i}": v for i, v in imp.mapping.items()}
    response = client.post(f"/import/{imp.id}", data=mapping | {"mode": "run", "duplicates": "skip"})
    assert response.status_code == 303 and response.location.endswith("#values-heading")
    page = client.get(response.location).get_data(as_text=True)
    assert "10 values in the file are not known here: choose what each becomes, then run again." in page
    db.session.expire_all()
    assert db.session.scalar(select(func.count(Job.id))) == 0 and db.session.get(type(imp), imp.id).report == {}


def test_only_admins_may_create_a_status_from_a_file(client, auth, app):
    auth.login("manager@example.com")
    imp = upload(client, "Company,Lead Status\nAcme,Open - Not Contacted\n")
    page = client.get(f"/import/{imp.id}").get_data(as_text=True)
    assert "Create it as a new open status" not in page
    response = client.post(f"/import/{imp.id}", data={"col_0": "company_name", "col_1": "status", "mode": "run",
                                                      "value_status_0": "new"})
    assert response.status_code == 422
    assert "Choose what “Open - Not Contacted” becomes from the list." in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).where(LeadStatus.name == "Open - Not Contacted")) == 0
    assert db.session.scalar(select(func.count(Lead.id)).where(Lead.company_name == "Acme")) == 0


def test_a_deal_file_maps_its_stage_names_to_the_pipeline(client, auth, app):
    auth.login()
    imp = upload(client, "Opportunity Name,Stage,Amount\nBig one,Prospecting,1000\nBigger,Closed Won,5000\n",
                 record_type="deal")
    assert listed(imp) == {"stage": {"Prospecting": 1, "Closed Won": 1}}
    won = db.session.scalar(select(Stage).where(Stage.name == "Won"))
    report = run(client, imp, value_stage_0=f"id:{won.id}", value_stage_1="")
    assert report["counts"]["create"] == 2
    stages = dict(db.session.execute(select(Deal.title, Stage.name).join(Deal.stage)
                                     .where(Deal.title.in_(["Big one", "Bigger"]))).all())
    assert stages == {"Bigger": "Won", "Big one": "Prospect"}
