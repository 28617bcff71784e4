"""The run over the file, dry or real, through ONE path: each row classified, then written unless dry."""
import csv
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm.i18n import _, _l
from crm.models import Job, User
from crm.models.mixins import utcnow
from crm.models.pools import ImportJob
from crm.services import DomainError, history, jobs
from crm.services.wording import count_phrase
from crm.services.csv_cells import neutralize_cell
from crm.services.importing.reading import rows
from crm.services.importing.values import RowValues
from crm.services.importing.writing import write
from crm.services.record_types import RECORD_TYPES, RecordType

CHUNK = 1000
DUPLICATE_POLICIES = {"skip": _l("Skip the row"), "update": _l("Update the existing record"),
                      "create": _l("Create anyway")}


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
    for chunk in _chunks(rows(Path(imp.path), imp), CHUNK, start=2):
        run.process(chunk)
        jobs.progress(session, job, run.done)
        session.commit()
    imp.report = run.finish()
    counts = imp.report["counts"]
    numbers = dict(file=imp.filename, created=counts["create"], updated=counts["update"],
                   skipped=counts["skip"], rejected=counts["reject"])
    message = (_("Dry run of %(file)s finished: %(created)s created, %(updated)s updated, %(skipped)s skipped, "
                 "%(rejected)s rejected.", **numbers) if dry_run else
               _("Import of %(file)s finished: %(created)s created, %(updated)s updated, %(skipped)s skipped, "
                 "%(rejected)s rejected.", **numbers))
    jobs.finish(session, job, message, link=job.link, result=counts)


def _chunks(lines: Iterator[list[str]], size: int, start: int) -> Iterator[list[tuple[int, list[str]]]]:
    """(row number in the file, cells) in chunks of `size`, blank lines left out."""
    chunk = []
    for number, row in enumerate(lines, start=start):
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
        self.lookups = RowValues(session, self.rtype)
        self.batch = None if dry_run else history.open_batch(
            session, self.actor.id, "import", self.rtype.name, 0, f"Import of {imp.filename}",
            params={"import_id": imp.id})
        self.rejects = _Rejects(Path(imp.path).with_suffix(".dry-rejects.csv" if dry_run else ".rejects.csv"),
                                imp.headers, imp.width)

    def process(self, chunk: list[tuple[int, list[str]]]) -> None:
        existing = self._existing_by_email(chunk)
        outcomes = [self._classify(number, cells, existing) for number, cells in chunk]
        if not self.dry_run:
            write(self.session, self.rtype, self.actor, self.batch.id, self.imp.owner_choice, outcomes)
        for o in outcomes:
            self.counts[o.action] += 1
            if o.action in ("skip", "reject") and len(self.reasons) < 200:
                self.reasons.append([o.row, o.action, o.reason])
            if o.action == "reject":
                self.rejects.add(o.cells, o.reason)
        self.done += len(chunk)

    def _existing_by_email(self, chunk) -> dict[str, int]:
        email_col = next((i for i, f in self.columns.items() if f == "email"), None)
        if email_col is None:
            return {}
        emails = {cells[email_col].strip().lower() for _n, cells in chunk
                  if len(cells) > email_col and cells[email_col].strip()}
        model = self.rtype.model
        found = self.session.execute(select(func.lower(model.email), func.min(model.id)).where(
            func.lower(model.email).in_(emails), model.deleted_at.is_(None)).group_by(func.lower(model.email)))
        return dict(found.all())

    def _classify(self, number: int, cells: list[str], existing: dict[str, int]) -> Outcome:
        outcome = Outcome(number, "create", cells)
        width = len(self.imp.headers)
        if len(cells) != width:
            return _reject(outcome, _("The row has %(cells)s cells but the header has %(width)s.",
                                      cells=len(cells), width=width))
        if any("\ufffd" in c for c in cells):
            return _reject(outcome, _("Some characters are not valid %(encoding)s text; save the file as UTF-8.",
                                      encoding=self.imp.encoding))
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
            outcome.action, outcome.reason = "skip", _("Same email as row %(row)s of this file.",
                                                       row=self.seen[email])
        elif email in existing and policy == "skip":
            outcome.action, outcome.reason = "skip", _("Same email as %(type)s #%(id)s.", type=label,
                                                       id=existing[email])
        elif email in existing and policy == "update":
            outcome.action, outcome.existing = "update", existing[email]
        self.seen.setdefault(email, outcome.row)
        return outcome

    def finish(self) -> dict:
        self.rejects.close()
        if self.batch is not None:
            self._close_batch()
        return {"dry_run": self.dry_run, "counts": dict(self.counts), "reasons": self.reasons,
                "rejects": str(self.rejects.path), "batch_id": self.batch.id if self.batch else None,
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


class _Rejects:
    """The rejected rows as a CSV: the file's columns, the error last and aligned, every cell neutralized."""

    def __init__(self, path: Path, headers: list[str], width: int):
        self.path, self.width = path, max(width, len(headers))
        self.file = open(path, "w", newline="", encoding="utf-8")
        self.writer = csv.writer(self.file)
        self.writer.writerow(self._aligned(headers, "error"))

    def add(self, cells: list[str], reason: str) -> None:
        self.writer.writerow(self._aligned(cells, reason))

    def _aligned(self, cells: list[str], last: str) -> list[str]:
        """Short rows padded, so the error stays under its header whatever the row's length."""
        padded = list(cells) + [""] * (self.width - len(cells))
        return [neutralize_cell(c) for c in padded] + [neutralize_cell(last)]

    def close(self) -> None:
        self.file.close()
