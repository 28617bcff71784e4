"""CSV import: detect the format, map columns, then a dry run or the real run through ONE path.

Rows stream from the file in chunks (constant memory for the rows themselves). Each row is
classified (`_classify`: create / update / skip / reject with a reason) the same way in both
modes; only the real run then writes the chunk (`_write`) inside one batch, so a dry run reports
exactly what the run will do. Rejected rows go to a CSV with an `error` column, every cell
neutralized against formula injection.
"""
import csv
import hashlib
import io
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

from charset_normalizer import from_bytes
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from crm.models import HistoryEvent, Job, LeadStatus, Pipeline, Stage, User
from crm.models.mixins import utcnow
from crm.models.pools import ImportJob, ImportMapping, Pool
from crm.services import DomainError, history, jobs, pools
from crm.services.bulk import Change
from crm.services.editing import new_record_defaults, update_record
from crm.services.owners import parse_choice
from crm.services.record_types import RECORD_TYPES, RecordType
from crm.services.wording import count_phrase

CHUNK = 1000
SAMPLE = 256 * 1024
DUPLICATE_POLICIES = {"skip": "Skip the row", "update": "Update the existing record", "create": "Create anyway"}
FIELDS = {
    "lead": ("title", "person_name", "company_name", "email", "phone", "source", "value", "tags", "description",
             "address", "city", "country", "status", "owner"),
    "contact": ("name", "email", "phone", "job_title", "source", "address", "city", "country", "owner"),
    "organization": ("name", "email", "phone", "website", "source", "address", "city", "country", "owner"),
    "deal": ("title", "value", "currency", "email", "phone", "source", "description", "address", "city", "country",
             "stage", "owner"),
}
LABELS = {"title": "Title", "person_name": "Contact person", "company_name": "Company", "email": "Email",
          "phone": "Phone", "source": "Source", "value": "Value", "tags": "Tags", "description": "Description",
          "address": "Address", "city": "City", "country": "Country", "status": "Status", "owner": "Owner",
          "name": "Name", "job_title": "Job title", "website": "Website", "currency": "Currency", "stage": "Stage"}
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
PREFERRED_ENCODINGS = ("cp1252", "latin_1", "iso8859_15")
WESTERN_ENCODINGS = ("cp1252", "latin_1")
# UTF-32 first: its little-endian BOM begins with UTF-16's.
BOMS = ((b"\xef\xbb\xbf", "utf_8_sig"), (b"\xff\xfe\x00\x00", "utf_32"), (b"\x00\x00\xfe\xff", "utf_32"),
        (b"\xff\xfe", "utf_16"), (b"\xfe\xff", "utf_16"))
CJK_ENCODINGS = {"big5", "big5hkscs", "cp932", "cp949", "cp950", "euc_jis_2004", "euc_jisx0213", "euc_jp",
                 "euc_kr", "gb18030", "gb2312", "gbk", "hz", "johab", "shift_jis", "shift_jis_2004",
                 "shift_jisx0213", "iso2022_jp", "iso2022_kr", "tis_620"}
INJECTION_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


# --- reading the file ---------------------------------------------------------------------------

@dataclass
class FileFormat:
    encoding: str
    delimiter: str
    headers: list[str]
    rows: int


def detect(path: Path) -> FileFormat:
    """Encoding (charset-normalizer), delimiter (csv.Sniffer), headers and the row count."""
    with open(path, "rb") as f:
        raw = f.read(SAMPLE)
    if not raw.strip():
        raise DomainError("The file is empty.")
    encoding = _encoding(raw)
    sample = raw.decode(encoding, errors="replace")
    try:
        delimiter = csv.Sniffer().sniff("\n".join(sample.splitlines()[:50]), delimiters=",;\t|").delimiter
    except csv.Error:
        delimiter = ","
    reader = csv.reader(io.StringIO(sample), delimiter=delimiter)
    headers = [h.strip() for h in next(reader, [])]
    if not any(headers):
        raise DomainError("The first line should name the columns, but it is empty.")
    fmt = FileFormat(encoding, delimiter, headers, 0)
    fmt.rows = sum(1 for row in _reader(path, fmt) if row)
    return fmt


def xlsx_to_csv(source: Path, target: Path) -> None:
    """The first sheet of an Excel workbook as a UTF-8 CSV, row by row (read-only mode streams)."""
    from openpyxl import load_workbook

    try:
        book = load_workbook(source, read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises several types for a broken or foreign file
        raise DomainError("This is not an Excel workbook that can be read (.xlsx).") from error
    with open(target, "w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        for row in book.worksheets[0].iter_rows(values_only=True):
            out.writerow(["" if v is None else str(v) for v in row])
    book.close()


def _encoding(raw: bytes) -> str:
    """The sample's text encoding: a BOM, else UTF-8, else a Western Windows export unless the
    detector names a code page people really save CSV files in."""
    for bom, encoding in BOMS:
        if raw.startswith(bom):
            return encoding
    if b"\x00" in raw[:4096]:
        raise DomainError("This does not look like a CSV text file.")
    if _is_utf8(raw):
        return "utf_8"
    matches = list(from_bytes(raw))
    if not matches:
        raise DomainError("The file's text encoding could not be recognised; save it as UTF-8 CSV.")
    best = matches[0]
    if not _is_common(best.encoding):
        # A short Latin-1 file reads "cleanly" as cp775 or a DOS code page too; Excel on
        # Western Windows writes cp1252, so that is the far likelier reading.
        return next((e for e in WESTERN_ENCODINGS if _decodes(raw, e)), best.encoding)
    # Among equally clean readings, prefer the encodings CRM exports really use (cp1250 and
    # cp1252 read most Western text equally well).
    tied = {m.encoding for m in matches if m.chaos <= best.chaos + 0.005}
    return next((e for e in PREFERRED_ENCODINGS if e in tied), best.encoding)


def _is_utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf_8")
    except UnicodeDecodeError as error:
        # The sample may end inside a multi-byte character.
        return error.reason == "unexpected end of data" and error.start >= len(raw) - 3
    return True


def _decodes(raw: bytes, encoding: str) -> bool:
    try:
        raw.decode(encoding)
    except UnicodeDecodeError:
        return False
    return True


def _is_common(encoding: str) -> bool:
    """Windows ANSI, ISO 8859, KOI8 and the CJK encodings: what CSV files are saved in; DOS, Mac
    and EBCDIC code pages are not."""
    return encoding.startswith(("cp125", "iso8859_", "koi8_")) or encoding in CJK_ENCODINGS


def _reader(path: Path, fmt) -> Iterator[list[str]]:
    """Data rows (after the header), streamed."""
    with open(path, encoding=fmt.encoding, errors="replace", newline="") as f:
        reader = csv.reader(f, delimiter=fmt.delimiter)
        next(reader, None)
        yield from reader


# --- column mapping -----------------------------------------------------------------------------

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


def remember_mapping(session: Session, record_type: str, headers: list[str], mapping: dict) -> None:
    key = header_key(headers)
    row = session.scalar(select(ImportMapping).where(ImportMapping.record_type == record_type,
                                                     ImportMapping.header_key == key))
    if row is None:
        session.add(ImportMapping(record_type=record_type, header_key=key, mapping=mapping))
    else:
        row.mapping = mapping


# --- the run (dry or real) ----------------------------------------------------------------------

@dataclass
class Outcome:
    row: int
    action: str  # create | update | skip | reject
    cells: list[str]
    values: dict = field(default_factory=dict)
    owner: str = ""  # owner choice for the row ("user:3", "pool:2", "")
    existing: int | None = None
    reason: str = ""


def run_import(session: Session, job: Job, import_id: str, dry_run: bool) -> None:
    """Job function: classify every row; the real run also writes, one batch, committed per chunk."""
    imp = session.get(ImportJob, import_id)
    run = _Run(session, imp, dry_run)
    for chunk in _chunks(_reader(Path(imp.path), imp), CHUNK, start=2):
        run.process(chunk)
        jobs.progress(session, job, run.done)
        session.commit()
    imp.report = run.finish()
    verb = "Dry run" if dry_run else "Import"
    counts = imp.report["counts"]
    jobs.finish(session, job, f"{verb} of {imp.filename} finished: {counts['create']} created, "
                f"{counts['update']} updated, {counts['skip']} skipped, {counts['reject']} rejected.",
                link=f"/import/{imp.id}", result=counts)


def _chunks(rows: Iterator[list[str]], size: int, start: int) -> Iterator[list[tuple[int, list[str]]]]:
    chunk = []
    for number, row in enumerate(rows, start=start):
        if not any(c.strip() for c in row):
            continue
        chunk.append((number, row))
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


class _Run:
    """One pass over the file: lookups cached once, rows classified, written when not a dry run."""

    def __init__(self, session: Session, imp: ImportJob, dry_run: bool):
        self.session, self.imp, self.dry_run = session, imp, dry_run
        self.rtype: RecordType = RECORD_TYPES[imp.record_type]
        self.actor = session.get(User, imp.actor_id)
        self.columns = {int(i): f for i, f in imp.mapping.items() if f}
        self.counts: Counter = Counter({"create": 0, "update": 0, "skip": 0, "reject": 0})
        self.reasons: list[list] = []
        self.seen: dict[str, int] = {}  # email -> first row: duplicates inside the file
        self.done = 0
        self.lookups = _Lookups(session, self.rtype)
        self.batch = None if dry_run else history.open_batch(
            session, self.actor.id, "import", self.rtype.name, 0, f"Import of {imp.filename}",
            params={"import_id": imp.id})
        self.rejects_path = Path(imp.path).with_suffix(".dry-rejects.csv" if dry_run else ".rejects.csv")
        self.rejects = open(self.rejects_path, "w", newline="", encoding="utf-8")
        self.reject_writer = csv.writer(self.rejects)
        self.reject_writer.writerow([safe_cell(h) for h in imp.headers] + ["error"])

    def process(self, chunk: list[tuple[int, list[str]]]) -> None:
        existing = self._existing_by_email(chunk)
        outcomes = [self._classify(number, cells, existing) for number, cells in chunk]
        if not self.dry_run:
            _write(self.session, self.rtype, self.actor, self.batch.id, self.imp.owner_choice, outcomes)
        for o in outcomes:
            self.counts[o.action] += 1
            if o.action in ("skip", "reject") and len(self.reasons) < 200:
                self.reasons.append([o.row, o.action, o.reason])
            if o.action == "reject":
                self.reject_writer.writerow([safe_cell(c) for c in o.cells] + [safe_cell(o.reason)])
        self.done += len(chunk)

    def _existing_by_email(self, chunk) -> dict[str, int]:
        email_col = next((i for i, f in self.columns.items() if f == "email"), None)
        if email_col is None:
            return {}
        emails = {cells[email_col].strip().lower() for _, cells in chunk if len(cells) > email_col and cells[email_col].strip()}
        model = self.rtype.model
        rows = self.session.execute(select(func.lower(model.email), func.min(model.id)).where(
            func.lower(model.email).in_(emails), model.deleted_at.is_(None)).group_by(func.lower(model.email)))
        return dict(rows.all())

    def _classify(self, number: int, cells: list[str], existing: dict[str, int]) -> Outcome:
        outcome = Outcome(number, "create", cells)
        if len(cells) != len(self.imp.headers):
            return _reject(outcome, f"The row has {len(cells)} cells but the header has {len(self.imp.headers)}.")
        if any("\ufffd" in c for c in cells):
            return _reject(outcome, f"Some characters are not valid {self.imp.encoding} text; save the file as UTF-8.")
        raw: dict[str, str] = {}
        for i, name in self.columns.items():
            value = cells[i].strip()
            if value:
                raw[name] = f"{raw[name]} {value}" if name in raw else value
        try:
            outcome.values = self.lookups.values(raw)
            outcome.owner = self.lookups.owner(raw.get("owner", ""))
        except DomainError as error:
            return _reject(outcome, str(error))
        return self._duplicates(outcome, existing)

    def _duplicates(self, outcome: Outcome, existing: dict[str, int]) -> Outcome:
        email = (outcome.values.get("email") or "").lower()
        if not email:
            return outcome
        policy, label = self.imp.duplicates, self.rtype.label.lower()
        if email in self.seen and policy != "create":
            outcome.action, outcome.reason = "skip", f"Same email as row {self.seen[email]} of this file."
        elif email in existing and policy == "skip":
            outcome.action, outcome.reason = "skip", f"Same email as {label} #{existing[email]}."
        elif email in existing and policy == "update":
            outcome.action, outcome.existing = "update", existing[email]
        self.seen.setdefault(email, outcome.row)
        return outcome

    def finish(self) -> dict:
        self.rejects.close()
        if self.batch is not None:
            self._close_batch()
        return {"dry_run": self.dry_run, "counts": dict(self.counts), "reasons": self.reasons,
                "rejects": str(self.rejects_path), "batch_id": self.batch.id if self.batch else None,
                "at": utcnow().isoformat(timespec="seconds")}

    def _close_batch(self) -> None:
        c = self.counts
        summary = (f"{self.actor.name} imported {count_phrase(c['create'], self.rtype)} from {self.imp.filename}"
                   + (f" and updated {c['update']:,}" if c["update"] else "") + ".")
        history.close_batch(self.session, self.batch, c["create"] + c["update"], summary)
        self.imp.batch_id = self.batch.id


def _reject(outcome: Outcome, reason: str) -> Outcome:
    outcome.action, outcome.reason = "reject", reason
    return outcome


class _Lookups:
    """Row values checked and converted: lengths, email, numbers, statuses, stages, owners."""

    def __init__(self, session: Session, rtype: RecordType):
        self.session, self.rtype = session, rtype
        self.statuses = {n.lower(): i for i, n in session.execute(select(LeadStatus.id, LeadStatus.name))}
        self.stages = {}
        for stage in session.scalars(select(Stage).join(Pipeline).order_by(Pipeline.position.desc(), Stage.position.desc())):
            self.stages[stage.name.lower()] = (stage.id, stage.pipeline_id)
        first = session.scalar(select(Stage).join(Pipeline).order_by(Pipeline.position, Stage.position))
        self.first_stage = (first.id, first.pipeline_id) if first else None
        self.owners: dict[str, str] = {}
        for u in session.scalars(select(User)):
            for key in (u.email.lower(), u.name.lower()):
                self.owners[key] = f"user:{u.id}" if u.active else f"inactive:{u.name}"
        for p in session.scalars(select(Pool).where(Pool.record_type == rtype.name)):
            self.owners[p.name.lower()] = f"pool:{p.id}" if p.active else f"off:{p.name}"

    def owner(self, text: str) -> str:
        if not text:
            return ""
        choice = self.owners.get(text.lower())
        if choice is None:
            raise DomainError(f"Unknown owner “{text}”: use a pool name, or a user's email or name.")
        if choice.startswith("inactive:"):
            raise DomainError(f"{text} is inactive and cannot own records.")
        if choice.startswith("off:"):
            raise DomainError(f"The pool {text} is switched off.")
        return choice

    def values(self, raw: dict[str, str]) -> dict:
        table = self.rtype.model.__table__
        values = {}
        for name, text in raw.items():
            if name in ("owner", "status", "stage"):
                continue
            column = table.c[name]
            size = getattr(column.type, "length", None)
            if size and len(text) > size:
                raise DomainError(f"{LABELS[name]} is longer than {size} characters.")
            values[name] = text
        if "email" in values:
            values["email"] = _email(values["email"])
        if "value" in values:
            values["value"] = _number(values["value"])
        if values.get("currency") and values["currency"].upper() not in ("EUR", "USD", "GBP", "SEK"):
            raise DomainError(f"Unknown currency “{values['currency']}” (use EUR, USD, GBP or SEK).")
        return self._typed(values, raw)

    def _typed(self, values: dict, raw: dict[str, str]) -> dict:
        name = self.rtype.name
        if name == "lead":
            values["title"] = values.get("title") or values.get("company_name") or values.get("person_name") or ""
            if raw.get("status"):
                if raw["status"].lower() not in self.statuses:
                    raise DomainError(f"Unknown lead status “{raw['status']}”.")
                values["status_id"] = self.statuses[raw["status"].lower()]
        if name == "deal":
            stage = self.stages.get(raw.get("stage", "").lower()) if raw.get("stage") else self.first_stage
            if stage is None:
                raise DomainError(f"Unknown stage “{raw['stage']}”.")
            values["stage_id"], values["pipeline_id"] = stage
        title = self.rtype.title_column
        if not values.get(title):
            raise DomainError(f"The row has no {LABELS[title].lower()}: map a column to {LABELS[title]} or fill it in.")
        return values


PLAIN_EMAIL = re.compile(r"^[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$")


def _email(text: str) -> str:
    """Plain ASCII addresses by a quick pattern; anything else through email-validator."""
    if PLAIN_EMAIL.match(text) and ".." not in text and not text.startswith("."):
        local, _, domain = text.rpartition("@")
        return f"{local}@{domain.lower()}"
    try:
        return validate_email(text, check_deliverability=False).normalized
    except EmailNotValidError:
        raise DomainError(f"“{text}” is not an email address.") from None


def _number(text: str) -> Decimal:
    cleaned = re.sub(r"[^\d.,-]", "", text).replace(",", "")
    try:
        return Decimal(cleaned)
    except InvalidOperation:
        raise DomainError(f"Value “{text}” is not a number.") from None


def _write(session: Session, rtype: RecordType, actor: User, batch_id: str, default_owner: str,
           outcomes: list[Outcome]) -> None:
    """Insert the chunk's new records (owners from the pool in row order), update the matched ones."""
    creates = [o for o in outcomes if o.action == "create"]
    owner_ids = _owners(session, [o.owner or default_owner for o in creates], actor, rtype)
    teams = dict(session.execute(select(User.id, User.team_id)).all())
    if creates:
        defaults = new_record_defaults(session, rtype) | {"source": "Import"}
        rows = [o.values | {k: v for k, v in defaults.items() if not o.values.get(k)}
                | {"owner_id": owner, "team_id": teams.get(owner)} for o, owner in zip(creates, owner_ids)]
        ids = _insert_rows(session, rtype.model.__table__, rows)
        now = utcnow()
        session.execute(insert(HistoryEvent.__table__), [
            {"record_type": rtype.name, "record_id": rid, "actor_id": actor.id, "kind": "create",
             "batch_id": batch_id, "at": now} for rid in ids])
    for o in outcomes:
        if o.action == "update":
            changes = o.values
            if o.owner:
                changes = changes | {"owner_id": _owners(session, [o.owner], actor, rtype)[0]}
            update_record(session, session.get(rtype.model, o.existing), changes, actor, batch_id=batch_id)


def _insert_rows(session: Session, table, rows: list[dict]) -> list[int]:
    """Core multi-row INSERT ... RETURNING id, one statement per set of keys (rows differ in columns)."""
    groups: dict[tuple, list[dict]] = {}
    for row in rows:
        groups.setdefault(tuple(sorted(row)), []).append(row)
    ids: list[int] = []
    for group in groups.values():
        ids += session.scalars(insert(table).returning(table.c.id), group).all()
    return ids


def _owners(session: Session, choices: list[str], actor: User, rtype: RecordType) -> list[int | None]:
    """User ids for owner choices; each pool's turns for the chunk are reserved in one statement."""
    result: list[int | None] = []
    per_pool: dict[int, list[int]] = {}
    for choice in choices:
        kind, ident = parse_choice(choice)
        if kind == "pool":
            per_pool.setdefault(ident, []).append(len(result))
        result.append(ident if kind == "user" else actor.id if kind is None else None)
    for pool_id, positions in per_pool.items():
        pools.get_pool(session, pool_id, rtype.name)
        for position, user_id in zip(positions, pools.take_turns(session, pool_id, len(positions))):
            result[position] = user_id
    return result


def safe_cell(value: str) -> str:
    """A cell a spreadsheet will not run as a formula (OWASP CSV injection)."""
    text = str(value)
    return "'" + text if text.startswith(INJECTION_PREFIXES) else text


# --- undo (from the batch page, crm/services/trash.py) ---------------------------------------------

def undo_change(batch, rtype: RecordType, now) -> tuple:
    """The first step of undoing an import batch: the mass-change engine's Change and the extra
    conditions that move the records the import CREATED to the trash (restorable from there).

    The records it UPDATED get their previous values back in the second step, the one every undo
    of field changes shares (`trash._undo_steps`, from the batch's "update" history events). An
    import writes plain columns only (the mapping offers no custom fields), so there is no
    `custom` JSON to put back.
    """
    model = rtype.model
    created = select(HistoryEvent.record_id).where(HistoryEvent.batch_id == batch.id,
                                                   HistoryEvent.record_type == rtype.name,
                                                   HistoryEvent.kind == "create")
    change = Change("undo", extra={"deleted_at": now}, kind="delete",
                    phrase=lambda n: f"moved the {count_phrase(n, rtype)} it created to the trash",
                    params={"undoes": batch.id})
    return change, [model.id.in_(created), model.deleted_at.is_(None)]
