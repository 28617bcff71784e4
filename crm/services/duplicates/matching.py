"""Pure matching: normalization, signatures, evidence and blocking; no database.

Every match says why it matched ("same email", "phone +46 8 123 45 67", "name 92%"). Records are
put into blocks by key (normalized email, phone, name-token prefixes) and only pairs inside a
block are compared, never all pairs.
"""
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache

import phonenumbers
from rapidfuzz import fuzz

from crm.services.geo import country_code
from crm.services.record_types import RECORD_TYPES, RecordType

NAME_THRESHOLD = 85  # rapidfuzz token_sort_ratio, 0..100
LIKELY = 80  # a pair scoring this much is a likely duplicate (see WEIGHTS)
FALLBACK_REGION = "SE"  # phone region when a record has no (known) country
MAX_BLOCK = 60  # larger blocks are compared within a sliding window (sorted neighbourhood)
WINDOW = 12

# Mail providers shared by strangers: two people at gmail.com are not the same company.
# example.com/.net/.org are the reserved documentation domains (demo and test data use them).
PUBLIC_DOMAINS = frozenset({
    "gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "live.com", "msn.com",
    "yahoo.com", "ymail.com", "rocketmail.com", "icloud.com", "me.com", "mac.com", "aol.com",
    "proton.me", "protonmail.com", "protonmail.ch", "pm.me", "gmx.com", "gmx.net", "gmx.de",
    "web.de", "t-online.de", "mail.com", "zoho.com", "yandex.com", "yandex.ru", "mail.ru",
    "fastmail.com", "hey.com", "tutanota.com", "tuta.io", "orange.fr", "free.fr", "laposte.net",
    "wanadoo.fr", "libero.it", "virgilio.it", "telia.com", "qq.com", "163.com",
    "example.com", "example.net", "example.org",
})
PUBLIC_PROVIDERS = frozenset({"gmail", "googlemail", "outlook", "hotmail", "live", "yahoo",
                              "icloud", "proton", "protonmail", "gmx", "aol", "msn", "yandex"})
LEGAL_SUFFIXES = frozenset({"ab", "ag", "aps", "as", "bv", "co", "company", "corp", "corporation",
                            "gmbh", "inc", "kg", "limited", "llc", "ltd", "nv", "oy", "plc", "sa",
                            "sarl", "sas", "sl", "spa", "srl", "the"})

NON_WORD = re.compile(r"[^\w]+")
NON_DIGIT = re.compile(r"\D")

# What each kind of evidence weighs; a pair's score is the sum of its reasons' weights.
WEIGHTS = {"email": 100, "phone": 90, "person": 50, "company": 40, "organization": 30, "domain": 30}


@dataclass(frozen=True)
class Profile:
    """Which columns of a record type hold a person's name, a company's name, a website (the
    registry's duplicate roles, crm/services/record_types.py)."""

    email: str | None = None
    phone: str | None = None
    country: str | None = None  # the region of national phone numbers
    person: str | None = None
    company: str | None = None
    website: str | None = None
    organization: str | None = None  # a link to an organization: same one is evidence
    company_weight: int = WEIGHTS["company"]
    columns: tuple[str, ...] = ()  # every column the check reads

    @classmethod
    def of(cls, rtype: RecordType) -> "Profile":
        role = rtype.duplicate_column
        # A record that IS a company (an organization) is its name: a close name alone is a likely duplicate.
        weight = 80 if role("company") == rtype.title_column else WEIGHTS["company"]
        columns = tuple(f.attr for f in rtype.fields if f.duplicate)
        return cls(role("email"), role("phone"), role("country"), role("person"), role("company"), role("website"),
                   role("organization"), weight, columns)


PROFILES = {name: Profile.of(rtype) for name, rtype in RECORD_TYPES.items()}


@dataclass(slots=True)
class Signature:
    """The normalized facts of one record that matching compares."""

    id: int | None
    email: str = ""
    domain: str = ""  # a company domain (never a public mail provider)
    phone: str = ""  # E.164 ("+4681234567"), or "#digits" when no region could be found
    person: str = ""
    company: str = ""
    organization: int | None = None

    @property
    def blank(self) -> bool:
        return not (self.email or self.domain or self.phone or self.person or self.company
                    or self.organization)


@dataclass(frozen=True)
class Reason:
    kind: str
    text: str
    weight: int


@dataclass
class Match:
    """A record similar to the probe, with the reasons why."""

    id: int
    title: str
    reasons: list[Reason]

    @property
    def score(self) -> int:
        return sum(r.weight for r in self.reasons)

    @property
    def why(self) -> str:
        return ", ".join(r.text for r in self.reasons)

    @property
    def likely(self) -> bool:
        return self.score >= LIKELY


@dataclass
class Group:
    """Likely duplicates found together on the duplicates overview."""

    ids: list[int]
    score: int
    reasons: list[str] = field(default_factory=list)


# --- normalization -------------------------------------------------------------------------

def normalize_email(raw: str | None) -> str:
    """Lower case, no "+tag"; gmail ignores dots in the local part."""
    email = (raw or "").strip().lower()
    local, at, domain = email.rpartition("@")
    if not at or not local or "." not in domain:
        return ""
    local = local.split("+", 1)[0]
    if domain in ("gmail.com", "googlemail.com"):
        local, domain = local.replace(".", ""), "gmail.com"
    return f"{local}@{domain}"


def is_public_domain(domain: str) -> bool:
    return domain in PUBLIC_DOMAINS or domain.split(".", 1)[0] in PUBLIC_PROVIDERS


def company_domain(email: str = "", website: str = "") -> str:
    """The company's own domain from an email or a website; "" for gmail-like providers."""
    return _company_domain(normalize_email(email), website)


@lru_cache(maxsize=65536)
def _company_domain(normalized_email: str, website: str) -> str:
    domain = normalized_email.rpartition("@")[2]
    if not domain and website:
        domain = re.sub(r"^[a-z]+://", "", website.strip().lower()).split("/", 1)[0].split(":", 1)[0]
    domain = domain.removeprefix("www.")
    return "" if not domain or "." not in domain or is_public_domain(domain) else domain


def normalize_phone(raw: str | None, country: str | None = "") -> str:
    """E.164 via phonenumbers, with the record's country as the region of national numbers."""
    raw = (raw or "").strip()
    digits = NON_DIGIT.sub("", raw)
    if len(digits) < 6:
        return ""
    if raw.startswith("+") and "(" not in raw:
        # Already international: E.164 is "+" and the digits (what phonenumbers returns too);
        # skipping the parser keeps the overview over 100,000 records fast.
        return "+" + digits
    return _parse_phone(raw, country_code(country or "") or FALLBACK_REGION) or "#" + digits.lstrip("0")


@lru_cache(maxsize=65536)
def _parse_phone(raw: str, region: str) -> str:
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return ""
    if not phonenumbers.is_possible_number(number):
        return ""
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def display_phone(key: str) -> str:
    """"+4681234567" -> "+46 8 123 45 67"."""
    if not key.startswith("+"):
        return key.lstrip("#")
    try:
        return phonenumbers.format_number(phonenumbers.parse(key, None),
                                          phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    except phonenumbers.NumberParseException:
        return key


@lru_cache(maxsize=131072)  # names repeat a lot; the overview normalizes every record's
def normalize_name(raw: str | None, *, company: bool = False) -> str:
    """Case, accents and punctuation removed ("Chloé  Müller-Berg" -> "chloe muller berg")."""
    text = raw or ""
    if not text.isascii():
        text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    words = NON_WORD.sub(" ", text.casefold()).split()
    if company:
        words = [w for w in words if w not in LEGAL_SUFFIXES] or words
    return " ".join(words)


def name_similarity(a: str, b: str) -> float:
    """0..100, word order ignored; below NAME_THRESHOLD counts as 0."""
    if not a or not b:
        return 0.0
    return fuzz.token_sort_ratio(a, b, score_cutoff=NAME_THRESHOLD)


# --- signatures and comparison -------------------------------------------------------------

def signature(rtype_name: str, values: Mapping, record_id: int | None = None) -> Signature:
    profile = PROFILES[rtype_name]
    get = values.get
    email = normalize_email(get(profile.email)) if profile.email else ""
    country = get(profile.country) if profile.country else ""
    return Signature(
        id=record_id,
        email=email,
        domain=_company_domain(email, (get(profile.website) or "") if profile.website else ""),
        phone=normalize_phone(get(profile.phone), country) if profile.phone else "",
        person=normalize_name(get(profile.person)) if profile.person else "",
        company=normalize_name(get(profile.company), company=True) if profile.company else "",
        organization=get(profile.organization) if profile.organization else None,
    )


def compare(rtype_name: str, a: Signature, b: Signature) -> list[Reason]:
    """Why b looks like a, strongest evidence first; empty when it does not."""
    profile = PROFILES[rtype_name]
    reasons = []
    if a.email and a.email == b.email:
        reasons.append(Reason("email", "same email", WEIGHTS["email"]))
    elif a.domain and a.domain == b.domain:
        reasons.append(Reason("domain", f"same domain {a.domain}", WEIGHTS["domain"]))
    if a.phone and a.phone == b.phone:
        reasons.append(Reason("phone", f"phone {display_phone(a.phone)}", WEIGHTS["phone"]))
    if score := name_similarity(a.person, b.person):
        reasons.append(Reason("person", _percent("name", score), WEIGHTS["person"]))
    if score := name_similarity(a.company, b.company):
        reasons.append(Reason("company", _percent("company", score), profile.company_weight))
    if a.organization and a.organization == b.organization:
        reasons.append(Reason("organization", "same organization", WEIGHTS["organization"]))
    return reasons


def _percent(label: str, score: float) -> str:
    return f"same {label}" if score >= 100 else f"{label} {score:.0f}%"



# --- blocking and grouping ------------------------------------------------------------------

def likely_groups(rtype_name: str, sigs: list[Signature]) -> list[Group]:
    """Groups of likely duplicates among these signatures, comparing only within blocks."""
    return _groups(_likely_pairs(rtype_name, sigs, _blocks(sigs)))



def blocking_keys(sig: Signature) -> Iterable[str]:
    """The blocks a record goes into; only records sharing a block are ever compared."""
    if sig.email:
        yield "e:" + sig.email
    if sig.phone:
        yield "p:" + sig.phone
    if key := _name_key(sig.person, sig.company):
        yield key


@lru_cache(maxsize=131072)
def _name_key(person: str, company: str) -> str:
    """Sorted 3-letter prefixes of the person's words (+ the company's first), so that word
    order and typos late in a word still land in the same block."""
    people = " ".join(sorted(w[:3] for w in person.split()))
    companies = " ".join(sorted(w[:3] for w in company.split()))
    if people:
        return f"n:{people}|{companies.split(' ')[0] if companies else ''}"
    return f"c:{companies}" if companies else ""


def _blocks(sigs: list[Signature]) -> list[list[int]]:
    blocks: dict[str, list[int]] = defaultdict(list)
    for index, sig in enumerate(sigs):
        for key in blocking_keys(sig):
            blocks[key].append(index)
    return [members for members in blocks.values() if len(members) > 1]


def _candidate_pairs(members: list[int], sigs: list[Signature]) -> Iterable[tuple[int, int]]:
    if len(members) <= MAX_BLOCK:
        for n, i in enumerate(members):
            for j in members[n + 1:]:
                yield i, j
        return
    ordered = sorted(members, key=lambda i: (sigs[i].person, sigs[i].company, sigs[i].id))
    for n, i in enumerate(ordered):
        for j in ordered[n + 1:n + 1 + WINDOW]:
            yield min(i, j), max(i, j)


def _likely_pairs(rtype_name: str, sigs: list[Signature], blocks: list[list[int]]) -> dict:
    pairs: dict[tuple[int, int], list[Reason]] = {}
    seen: set[tuple[int, int]] = set()
    for members in blocks:
        for pair in _candidate_pairs(members, sigs):
            if pair in seen:
                continue
            seen.add(pair)
            reasons = compare(rtype_name, sigs[pair[0]], sigs[pair[1]])
            if sum(r.weight for r in reasons) >= LIKELY:
                pairs[(sigs[pair[0]].id, sigs[pair[1]].id)] = reasons
    return pairs


def _groups(pairs: dict[tuple[int, int], list[Reason]]) -> list[Group]:
    parent: dict[int, int] = {}

    def root(i: int) -> int:
        while parent.setdefault(i, i) != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for a, b in pairs:
        parent[root(a)] = root(b)
    groups: dict[int, Group] = {}
    for (a, b), reasons in pairs.items():
        group = groups.setdefault(root(a), Group(ids=[], score=0))
        group.ids += [i for i in (a, b) if i not in group.ids]
        group.score = max(group.score, sum(r.weight for r in reasons))
        group.reasons += [r.text for r in reasons if r.text not in group.reasons]
    for group in groups.values():
        group.ids.sort()
    return sorted(groups.values(), key=lambda g: (-g.score, -len(g.ids), g.ids[0]))
