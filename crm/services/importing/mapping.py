"""Which column goes to which field: common export headers recognised, the user's choice remembered."""
import hashlib
import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm.i18n import _l
from crm.models.pools import ImportMapping

FIELDS = {
    "lead": ("title", "person_name", "company_name", "email", "phone", "source", "value", "tags", "description",
             "address", "city", "country", "status", "owner"),
    "contact": ("name", "email", "phone", "job_title", "source", "address", "city", "country", "owner"),
    "organization": ("name", "email", "phone", "website", "source", "address", "city", "country", "owner"),
    "deal": ("title", "value", "currency", "email", "phone", "source", "description", "address", "city", "country",
             "stage", "owner"),
}
LABELS = {"title": _l("Title"), "person_name": _l("Contact person"), "company_name": _l("Company"),
          "email": _l("Email"), "phone": _l("Phone"), "source": _l("Source"), "value": _l("Value"),
          "tags": _l("Tags"), "description": _l("Description"), "address": _l("Address"), "city": _l("City"),
          "country": _l("Country"), "status": _l("Status"), "owner": _l("Owner"), "name": _l("Name"),
          "job_title": _l("Job title"), "website": _l("Website"), "currency": _l("Currency"), "stage": _l("Stage")}
# Common export headers (Salesforce, Pipedrive, HubSpot), normalized, to a meaning ...
ALIASES = {
    **dict.fromkeys(("firstname", "lastname", "fullname", "name", "personname", "contactname", "contact",
                     "contactperson"), "person"),
    **dict.fromkeys(("company", "companyname", "organization", "organizationname", "organisation", "account",
                     "accountname"), "company"),
    **dict.fromkeys(("email", "emailaddress", "personemail", "email1", "workemail"), "email"),
    **dict.fromkeys(("phone", "phonenumber", "mobile", "mobilephone", "personphone", "phone1", "workphone"), "phone"),
    **dict.fromkeys(("source", "leadsource", "originalsource", "dealsource"), "source"),
    **dict.fromkeys(("title", "leadtitle", "dealtitle", "dealname", "opportunityname", "subject"), "title"),
    **dict.fromkeys(("jobtitle", "position"), "job_title"),
    **dict.fromkeys(("value", "amount", "dealvalue", "leadvalue"), "value"),
    **dict.fromkeys(("description", "notes", "note"), "description"),
    **dict.fromkeys(("address", "street", "mailingstreet", "streetaddress"), "address"),
    **dict.fromkeys(("city", "mailingcity"), "city"),
    **dict.fromkeys(("country", "countryregion", "mailingcountry"), "country"),
    **dict.fromkeys(("owner", "leadowner", "ownername", "owneremail", "contactowner", "dealowner", "recordowner",
                     "hubspotowner", "assignedto"), "owner"),
    **dict.fromkeys(("status", "leadstatus"), "status"),
    **dict.fromkeys(("stage", "dealstage", "stagename", "pipelinestage"), "stage"),
    **dict.fromkeys(("website", "websiteurl", "web"), "website"),
    **dict.fromkeys(("tags", "labels", "label"), "tags"),
    "currency": "currency",
}
# ... and each meaning to a field of each record type.
MEANINGS = {
    "lead": {"person": "person_name", "company": "company_name", "title": "title"},
    "contact": {"person": "name", "title": "job_title", "job_title": "job_title"},
    "organization": {"company": "name"},
    "deal": {"title": "title"},
}


def field_choices(record_type: str) -> list[tuple[str, str]]:
    """(field, label) of every field a column can go to, in form order."""
    return [(name, str(LABELS[name])) for name in FIELDS[record_type]]


def normalize_header(header: str) -> str:
    return re.sub(r"[^a-z0-9]", "", header.lower())


def header_key(headers: list[str]) -> str:
    return hashlib.sha256("\x1f".join(normalize_header(h) for h in headers).encode()).hexdigest()[:64]


def guess_mapping(session: Session, record_type: str, headers: list[str]) -> dict[str, str]:
    """The mapping remembered for these headers, else common export headers mapped by name."""
    remembered = session.scalar(select(ImportMapping.mapping).where(
        ImportMapping.record_type == record_type, ImportMapping.header_key == header_key(headers)))
    if remembered:
        return remembered
    fields = FIELDS[record_type]
    mapping = {}
    for i, header in enumerate(headers):
        meaning = ALIASES.get(normalize_header(header), "")
        target = MEANINGS[record_type].get(meaning, meaning)
        mapping[str(i)] = target if target in fields else ""
    return mapping


def clean_mapping(record_type: str, headers: list[str], chosen: dict[int, str]) -> dict[str, str]:
    """The mapping from the form: every column, each to a known field or to nothing."""
    fields = set(FIELDS[record_type])
    return {str(i): chosen.get(i, "") if chosen.get(i, "") in fields else "" for i in range(len(headers))}


def remember_mapping(session: Session, record_type: str, headers: list[str], mapping: dict) -> None:
    key = header_key(headers)
    row = session.scalar(select(ImportMapping).where(ImportMapping.record_type == record_type,
                                                     ImportMapping.header_key == key))
    if row is None:
        session.add(ImportMapping(record_type=record_type, header_key=key, mapping=mapping))
    else:
        row.mapping = mapping
