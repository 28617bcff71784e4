"""The run over the file, dry or real, through ONE path: rows classified, then written unless dry.

A real run opens its batch first (the import points at it from the start) and commits chunk by
chunk: the records, their history in the batch, the batch's count and where the run got to (the
report) go in together. A run that stops part-way (an error, a killed worker) has therefore written
exactly what its batch holds, says so on the import page, and can be resumed from the next row;
undo on the batch takes back whatever it wrote.
"""
import copy
import csv
from collections.abc import Callable, Iterator
from pathlib import Path

from sqlalchemy.orm import Session

from crm.i18n import _, _l
from crm.models import Batch, Job, User
from crm.models.mixins import utcnow
from crm.models.pools import ImportJob
from crm.services import DomainError, history, jobs, owners
from crm.services.bulk import begin_write
from crm.services.csv_cells import neutralize_cell
from crm.services.importing import choices
from crm.services.importing.classify import Classifier
from crm.services.importing.reading import rows
from crm.services.importing.writing import write
from crm.services.wording import count_phrase

CHUNK = 1000
MAX_REASONS = 200
FAULT_HOOK: Callable[[int], None] | None = None  # tests: fail or kill after the n-th chunk's writes
DUPLICATE_POLICIES = {"skip": _l("Skip the row"), "update": _l("Update the existing record"),
                      "create": _l("Create anyway")}


def run_import(session: Session, job: Job, import_id: str, dry_run: bool, resume: bool = False) -> None:
    """Job function: classify every row; the real run also writes, one batch, committed per chunk."""
    imp = session.get(ImportJob, import_id)
    run = Run(session, imp, dry_run, resume)
    if run.batch is not None:
        jobs.record_batch(session, job, run.batch)
    for chunk in run.chunks():
        run.process(chunk)
        jobs.progress(session, job, run.state["done"])
        session.commit()
    run.finish()
    counts = imp.report["counts"]
    numbers = dict(file=imp.filename, created=counts["create"], updated=counts["update"],
                   skipped=counts["skip"], rejected=counts["reject"])
    message = (_("Dry run of %(file)s finished: %(created)s created, %(updated)s updated, %(skipped)s skipped, "
                 "%(rejected)s rejected.", **numbers) if dry_run else
               _("Import of %(file)s finished: %(created)s created, %(updated)s updated, %(skipped)s skipped, "
                 "%(rejected)s rejected.", **numbers))
    jobs.finish(session, job, message, link=job.link, result=counts)


def stopped(imp: ImportJob, job: Job | None) -> bool:
    """The import's last run ended before the end of the file (its job failed or is gone)."""
    return bool(imp.report) and imp.report.get("state") == "running" and (job is None or job.finished)


def may_resume(session: Session, imp: ImportJob, job: Job | None) -> bool:
    """A real run that stopped part-way, whose batch was not undone since."""
    if not stopped(imp, job) or imp.report.get("dry_run"):
        return False
    batch = session.get(Batch, imp.batch_id) if imp.batch_id else None
    return batch is not None and batch.undone_at is None


class Run:
    """One pass over the file (or its rest, when resumed) and the report it keeps up to date."""

    def __init__(self, session: Session, imp: ImportJob, dry_run: bool, resume: bool):
        self.session, self.imp, self.dry_run = session, imp, dry_run
        self.chunks_done = 0
        self.actor = session.get(User, imp.actor_id)
        if not dry_run and not resume:
            choices.resolve_new(session, imp, self.actor)
        self.classifier = Classifier(session, imp, self.actor)
        self.rtype = self.classifier.rtype
        owners.check_choice(session, imp.owner_choice or f"user:{self.actor.id}", self.actor, self.rtype.name)
        if resume:
            if not may_resume(session, imp, None):
                raise DomainError(_l("Only an import that stopped part-way can be resumed."))
            self.state = copy.deepcopy(imp.report) | {"state": "running"}
            self.batch = session.get(Batch, imp.batch_id)
        else:
            path = Path(imp.path).with_suffix(".dry-rejects.csv" if dry_run else ".rejects.csv")
            self.state = {"dry_run": dry_run, "state": "running", "row": 0, "done": 0, "rejects": str(path),
                          "rejects_bytes": 0, "counts": {"create": 0, "update": 0, "skip": 0, "reject": 0},
                          "reasons": [], "formulas": 0, "formula_cells": [], "batch_id": None,
                          "at": utcnow().isoformat(timespec="seconds")}
            self.batch = None if dry_run else self._open_batch()
        self.rejects = _Rejects(Path(self.state["rejects"]), imp.headers, imp.width, self.state["rejects_bytes"])
        self._save()
        session.commit()

    def chunks(self) -> Iterator[list[tuple[int, list[str]]]]:
        """The chunks still to do; rows a stopped run already did are only remembered (duplicates)."""
        for chunk in _chunks(rows(Path(self.imp.path), self.imp), CHUNK, start=2):
            done = [(n, cells) for n, cells in chunk if n <= self.state["row"]]
            for number, cells in done:
                self.classifier.remember(self.classifier.parse(number, cells))
            if len(done) < len(chunk):
                yield chunk[len(done):]

    def process(self, chunk: list[tuple[int, list[str]]]) -> None:
        begin_write(self.session)
        outcomes = self.classifier.chunk(chunk)
        if not self.dry_run:
            write(self.session, self.rtype, self.actor, self.batch.id, self.imp.owner_choice, outcomes)
        self.chunks_done += 1
        if FAULT_HOOK:
            FAULT_HOOK(self.chunks_done)
        counts, reasons = self.state["counts"], self.state["reasons"]
        for o in outcomes:
            counts[o.action] += 1
            if o.action in ("skip", "reject") and len(reasons) < MAX_REASONS:
                reasons.append([o.row, o.action, o.reason])
            if o.action == "reject":
                self.rejects.add(o.cells, o.reason)
            elif o.formulas and o.action != "skip":
                self._formulas(o)
        self.state["row"], self.state["done"] = chunk[-1][0], self.state["done"] + len(chunk)
        self.state["rejects_bytes"] = self.rejects.flush()
        self._save()

    def _formulas(self, outcome) -> None:
        """Count the row's formula cells (they go in as text); the first ones are listed on the page."""
        self.state["formulas"] = self.state.get("formulas", 0) + len(outcome.formulas)
        cells = self.state.setdefault("formula_cells", [])
        for i in outcome.formulas[:max(0, MAX_REASONS - len(cells))]:
            cells.append([outcome.row, self.imp.headers[i], outcome.cells[i].strip()])

    def finish(self) -> None:
        self.rejects.close()
        self.state |= {"state": "done", "at": utcnow().isoformat(timespec="seconds")}
        self._save()

    def _open_batch(self):
        batch = history.open_batch(self.session, self.actor.id, "import", self.rtype.name, 0, "",
                                   params={"import_id": self.imp.id})
        self.imp.batch_id = self.state["batch_id"] = batch.id
        return batch

    def _save(self) -> None:
        """The report (and the batch's count and summary) as of the last row done, saved with the chunk."""
        self.imp.report = copy.deepcopy(self.state)
        if self.batch is None:
            return
        c = self.state["counts"]
        summary = (f"{self.actor.name} imported {count_phrase(c['create'], self.rtype)} from {self.imp.filename}"
                   + (f" and updated {c['update']:,}" if c["update"] else "") + ".")
        history.close_batch(self.session, self.batch, c["create"] + c["update"], summary)


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


class _Rejects:
    """The rejected rows as a CSV: the file's columns, the error last and aligned, every cell neutralized.

    `offset` continues a stopped run's file from its last saved chunk (rows written after it are cut).
    """

    def __init__(self, path: Path, headers: list[str], width: int, offset: int = 0):
        self.path, self.width = path, max(width, len(headers))
        self.file = open(path, "r+" if offset else "w", newline="", encoding="utf-8")
        self.writer = csv.writer(self.file)
        if offset:
            self.file.seek(offset)
            self.file.truncate()
        else:
            self.writer.writerow(self._aligned(headers, "error"))

    def add(self, cells: list[str], reason: str) -> None:
        self.writer.writerow(self._aligned(cells, reason))

    def flush(self) -> int:
        """Write out what is buffered; the file's length (where a resumed run continues)."""
        self.file.flush()
        return self.file.tell()

    def _aligned(self, cells: list[str], last: str) -> list[str]:
        """Short rows padded, so the error stays under its header whatever the row's length."""
        padded = list(cells) + [""] * (self.width - len(cells))
        return [neutralize_cell(c) for c in padded] + [neutralize_cell(last)]

    def close(self) -> None:
        self.file.close()
