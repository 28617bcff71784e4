"""What the app knows about each record type, in one table: its names, its fields (the registry,
crm/services/fields.py) and what its views offer. Everything that lists fields derives from here."""
from dataclasses import dataclass, field as dataclass_field

from crm.i18n import _l
from crm.models import Contact, Deal, Lead, Organization
from crm.services.fields import CONCAT, UNITE, Field, Kind, with_column_facts

# Import headers of common exports (Salesforce, Pipedrive, HubSpot), normalized (fields.normalize).
PERSON = ("firstname", "lastname", "fullname", "name", "personname", "contactname", "contact", "contactperson")
COMPANY = ("company", "companyname", "organization", "organizationname", "organisation", "account",
           "accountname")
EMAIL = ("email", "emailaddress", "personemail", "email1", "workemail")
PHONE = ("phone", "phonenumber", "mobile", "mobilephone", "personphone", "phone1", "workphone")
SOURCE = ("source", "leadsource", "originalsource", "dealsource")
TITLE = ("title", "leadtitle", "dealtitle", "dealname", "opportunityname", "subject")
VALUE = ("value", "amount", "dealvalue", "leadvalue")
CURRENCIES = ("EUR", "USD", "GBP", "SEK")
OWNER = ("owner", "leadowner", "ownername", "owneremail", "contactowner", "dealowner", "recordowner",
         "hubspotowner", "assignedto")


def _title(name: str, label, required, aliases=TITLE, **facts) -> Field:
    return Field(name, label, required=required, searchable=True, sortable=True, listed=0, aliases=aliases,
                 **facts)


def _email(**facts) -> Field:
    return Field("email", _l("Email"), Kind.EMAIL, searchable=True, duplicate="email", aliases=EMAIL, **facts)


def _phone(**facts) -> Field:
    return Field("phone", _l("Phone"), Kind.PHONE, searchable=True, duplicate="phone", aliases=PHONE, **facts)


def _owner(listed: int) -> Field:
    return Field("owner", _l("Owner"), Kind.REFERENCE, column="owner_id", choices="owner", relation="owner",
                 filterable=True, sortable=True, sort_by="name", listed=listed, merge=None, aliases=OWNER)


def _source(**facts) -> Field:
    return Field("source", _l("Source"), filterable=True, aliases=SOURCE, **facts)


def _value(**facts) -> Field:
    """A lead's or deal's value, in its currency (the two read and merge as one row)."""
    return Field("value", _l("Value"), Kind.MONEY, sortable=True, aliases=VALUE, currency="currency", group="value",
                 **facts)


def _currency() -> Field:
    return Field("currency", _l("Currency"), Kind.CHOICE, choices=CURRENCIES, group="value",
                 aliases=("currency", "currencycode"))


def _expected_close(**facts) -> Field:
    return Field("expected_close", _l("Expected close"), Kind.DATE,
                 aliases=("expectedclose", "closedate", "expectedclosedate"), **facts)


def _reference(name: str, label, *, listed: int | None = None, **facts) -> Field:
    """A link to an organization or a contact, chosen among the records the user may see."""
    return Field(name, label, Kind.REFERENCE, column=f"{name}_id", choices=name, relation=name,
                 listed=listed, importable=False, **facts)


def _place(city_listed: int | None = None) -> tuple[Field, ...]:
    """Address, city, country and coordinates: one "Address" on the record page and in a merge."""
    return (
        Field("address", _l("Address"), group="place", aliases=("address", "street", "mailingstreet",
                                                                 "streetaddress")),
        Field("city", _l("City"), group="place", sortable=True, listed=city_listed,
              aliases=("city", "mailingcity")),
        Field("country", _l("Country"), group="place", duplicate="country",
              aliases=("country", "countryregion", "mailingcountry")),
        Field("lat", _l("Latitude"), Kind.GEO, group="place", bounds=(-90, 90), aliases=("latitude",)),
        Field("lng", _l("Longitude"), Kind.GEO, group="place", bounds=(-180, 180),
              aliases=("lon", "long", "longitude")),
    )


def _description() -> Field:
    return Field("description", _l("Description"), multiline=True, merge=CONCAT,
                 aliases=("description", "notes", "note"))


def _territory() -> Field:
    """Computed from the coordinates (crm/services/territories.py): read-only."""
    return Field("territory", _l("Territory"), Kind.REFERENCE, column="territory_id", relation="territory",
                 filterable=True, form=False, importable=False, api=False, merge=None)


def _stamps(created_listed: int | None = None) -> tuple[Field, ...]:
    return (
        Field("created_at", _l("Created"), Kind.DATETIME, sortable=True, filterable=True, listed=created_listed,
              form=False, importable=False, api=False, merge=None),
        Field("updated_at", _l("Updated"), Kind.DATETIME, sortable=True, shown=False, form=False,
              importable=False, api=False, merge=None),
    )


LEAD_FIELDS = (
    _title("title", _l("Title"), _l("A lead needs a title."), list_label=_l("Lead"),
           fallback=("company_name", "person_name")),
    Field("person_name", _l("Contact person"), searchable=True, sortable=True, listed=1, list_label=_l("Contact"),
          list_detail="company_name", duplicate="person", aliases=PERSON),
    Field("company_name", _l("Company"), searchable=True, sortable=True, duplicate="company", aliases=COMPANY),
    _email(),
    _phone(),
    Field("status", _l("Status"), Kind.CHOICE, column="status_id", choices="lead_status", relation="status",
          filterable=True, sortable=True, sort_by="position", listed=2, aliases=("status", "leadstatus")),
    _owner(listed=3),
    _source(sortable=True, listed=4),
    _value(listed=6),
    _currency(),
    _expected_close(),
    Field("tags", _l("Tags"), Kind.TAGS, description=_l("Comma-separated"), merge=UNITE,
          aliases=("tags", "labels", "label")),
    *_place(city_listed=5),
    _description(),
    # The contact and organization a lead carries (from a deal, or made by its conversion): links on its page.
    Field("contact", _l("Linked contact"), Kind.REFERENCE, column="contact_id", choices="contact",
          relation="contact", form=False, importable=False, api=False),
    Field("organization", _l("Linked organization"), Kind.REFERENCE, column="organization_id",
          choices="organization", relation="organization", form=False, importable=False, api=False),
    _territory(),
    *_stamps(created_listed=7),
    Field("score", _l("Score"), Kind.NUMBER, sortable=True, listed=8, shown=False, form=False, importable=False,
          api=False, merge=None, description=_l("0-100, from the scoring rules")),
)

DEAL_FIELDS = (
    _title("title", _l("Title"), _l("A deal needs a title."), list_label=_l("Deal")),
    _value(listed=4),
    _currency(),
    Field("stage", _l("Stage"), Kind.CHOICE, column="stage_id", choices="stage", relation="stage",
          companions=("pipeline_id",), required=_l("A deal needs a pipeline stage."), filterable=True, sortable=True,
          sort_by="position", listed=2,
          aliases=("stage", "dealstage", "stagename", "pipelinestage")),
    _owner(listed=3),
    _reference("organization", _l("Organization"), listed=1, duplicate="organization"),
    _reference("contact", _l("Contact person")),
    _expected_close(sortable=True, listed=5),
    _email(),
    _phone(),
    _source(),
    *_place(),
    _description(),
    _territory(),
    *_stamps(),
)

CONTACT_FIELDS = (
    _title("name", _l("Name"), _l("A contact needs a name."), aliases=PERSON, duplicate="person"),
    _email(sortable=True, listed=2),
    _phone(listed=3),
    Field("job_title", _l("Job title"), searchable=True, aliases=("jobtitle", "position", "title")),
    _reference("organization", _l("Organization"), listed=1, duplicate="organization"),
    _owner(listed=4),
    _source(),
    *_place(city_listed=5),
    _territory(),
    *_stamps(),
)

ORGANIZATION_FIELDS = (
    _title("name", _l("Name"), _l("An organization needs a name."), aliases=COMPANY, duplicate="company"),
    _email(),
    _phone(listed=2),
    Field("website", _l("Website"), Kind.URL, searchable=True, listed=3, duplicate="website",
          aliases=("website", "websiteurl", "web", "url")),
    _owner(listed=4),
    _source(),
    *_place(city_listed=1),
    _territory(),
    *_stamps(),
)


@dataclass(frozen=True)
class RecordType:
    name: str  # "lead": used in URLs, history events and custom fields
    model: type
    label: str  # English, as URLs, blueprints and the API name things
    plural: str
    fields: tuple[Field, ...]  # the registry: every field, in form order
    position: str | None = None  # the field holding the pipeline position (a deal's stage, a lead's status)
    views: tuple[str, ...] = ("list", "map")  # other views of a filter besides the list
    similar: bool = True  # offers similar records, duplicates and merge from the record page
    by_name: dict[str, Field] = dataclass_field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        fields = with_column_facts(self.fields, self.model)
        object.__setattr__(self, "fields", fields)
        object.__setattr__(self, "by_name", {f.name: f for f in fields})

    def field(self, name: str) -> Field:
        return self.by_name[name]

    @property
    def endpoint(self) -> str:
        return f"{self.plural}.show"

    @property
    def title_column(self) -> str:
        return self.fields[0].attr

    @property
    def position_field(self) -> Field | None:
        return self.by_name[self.position] if self.position else None

    @property
    def stage_column(self) -> str | None:
        return self.position_field.attr if self.position else None

    @property
    def search_columns(self) -> tuple[str, ...]:
        return tuple(f.attr for f in self.fields if f.searchable)

    @property
    def sortable(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields if f.sortable)

    @property
    def columns(self) -> tuple[Field, ...]:
        """The list's columns, in their order."""
        return tuple(sorted((f for f in self.fields if f.listed is not None), key=lambda f: f.listed))

    @property
    def relations(self) -> tuple[str, ...]:
        """Relationships the list shows (loaded with the rows, not one query per row)."""
        return tuple(f.relation for f in self.columns if f.relation)

    @property
    def probe_fields(self) -> tuple[Field, ...]:
        """The form inputs the create form's duplicate check sends as the user types."""
        return tuple(f for f in self.fields if f.duplicate and f.form and f.kind != Kind.REFERENCE)

    def duplicate_column(self, role: str) -> str | None:
        """The column playing a role in the duplicate check ("person", "company", ...), if any."""
        return next((f.attr for f in self.fields if f.duplicate == role), None)


LEAD = RecordType("lead", Lead, "Lead", "leads", LEAD_FIELDS, position="status")
DEAL = RecordType("deal", Deal, "Deal", "deals", DEAL_FIELDS, position="stage", views=("list", "kanban", "map"),
                  similar=False)
CONTACT = RecordType("contact", Contact, "Contact", "contacts", CONTACT_FIELDS)
ORGANIZATION = RecordType("organization", Organization, "Organization", "organizations", ORGANIZATION_FIELDS,
                          views=("list",))

RECORD_TYPES: dict[str, RecordType] = {t.name: t for t in (LEAD, DEAL, CONTACT, ORGANIZATION)}


def record_type(name: str) -> RecordType:
    try:
        return RECORD_TYPES[name]
    except KeyError:
        raise LookupError(f"Unknown record type {name!r}") from None


def record_type_of(obj) -> RecordType:
    return next(t for t in RECORD_TYPES.values() if isinstance(obj, t.model))
