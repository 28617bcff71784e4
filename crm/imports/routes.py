"""CSV import pages: upload, map columns, dry run, run in the background, download rejected rows."""
import uuid
from pathlib import Path

from flask import Blueprint, abort, current_app, flash, redirect, request, send_file, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from crm.extensions import db
from crm.i18n import _, ngettext
from crm.models import Job
from crm.models.pools import ImportJob
from crm.rendering import render
from crm.services import DomainError, importing, jobs
from crm.services.owners import owner_choices
from crm.services.permissions import may_mass_change
from crm.services.record_types import RECORD_TYPES
from crm.services.settings import enabled_types
from crm.tasks import run_job

bp = Blueprint("imports", __name__, url_prefix="/import")
IMPORTABLE = ("lead", "contact", "organization", "deal")


@bp.before_request
@login_required
def importers_only():
    if not may_mass_change(current_user):
        abort(403, "Only admins and managers can import records.")


@bp.get("/")
def index():
    """Upload a CSV file; recent imports below."""
    return _index()


def _index(error: str | None = None, status: int = 200):
    recent = db.session.scalars(select(ImportJob).where(ImportJob.actor_id == current_user.id)
                                .order_by(ImportJob.created_at.desc()).limit(10)).all()
    return render("imports/index.html", "import_upload", status=status, error=error, recent=recent,
                  types=[t for name, t in enabled_types(db.session, current_user).items() if name in IMPORTABLE])


@bp.post("/")
def upload():
    """Store the file, detect encoding and delimiter, guess the mapping; then go to the mapping page."""
    file, record_type = request.files.get("file"), request.form.get("record_type", "")
    if file is None or not file.filename:
        return _index("Choose a CSV file to import.", 422)
    if record_type not in IMPORTABLE:
        return _index("Choose what the rows are.", 422)
    import_id = str(uuid.uuid4())
    folder = Path(current_app.instance_path) / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{import_id}.csv"
    try:
        _store(file, path)
        fmt = importing.detect(path)
    except DomainError as error:
        path.unlink(missing_ok=True)
        return _index(f"{file.filename}: {error}", 422)
    imp = ImportJob(id=import_id, actor_id=current_user.id, record_type=record_type, filename=file.filename[:255],
                    path=str(path), encoding=fmt.encoding, delimiter=fmt.delimiter, headers=fmt.headers,
                    row_count=fmt.rows, width=fmt.width, mapping=importing.guess_mapping(db.session, record_type, fmt.headers))
    importing.prepare_values(db.session, imp, current_user, {},
                             importing.remembered_values(db.session, record_type, fmt.headers))
    db.session.add(imp)
    db.session.commit()
    return redirect(url_for("imports.show", import_id=imp.id), code=303)


def _store(file, path: Path) -> None:
    """Save a CSV as is; convert the first sheet of an .xlsx workbook to CSV."""
    if not file.filename.lower().endswith(".xlsx"):
        file.save(path)
        return
    workbook = path.with_suffix(".xlsx")
    file.save(workbook)
    try:
        importing.xlsx_to_csv(workbook, path)
    finally:
        workbook.unlink(missing_ok=True)


@bp.get("/<import_id>")
def show(import_id: str):
    """Column mapping, owner and duplicate policy; the last run's report and its progress."""
    imp = _own(import_id)
    return _show(imp)


def _show(imp: ImportJob, error: str | None = None, status: int = 200):
    job = db.session.get(Job, imp.job_id) if imp.job_id else None
    rtype = RECORD_TYPES[imp.record_type]
    value_options = {name: importing.value_choices(db.session, rtype.by_name[name], current_user, imp.record_type)
                     for name in imp.unknown_values or {}}
    return render("imports/show.html", "import_page", status=status, imp=imp, job=job, error=error,
                  rtype=rtype, fields=importing.field_choices(imp.record_type), value_options=value_options,
                  owners=owner_choices(db.session, current_user, imp.record_type),
                  policies=importing.DUPLICATE_POLICIES, stopped=importing.stopped(imp, job),
                  may_resume=importing.may_resume(db.session, imp, job))


@bp.post("/<import_id>")
def start(import_id: str):
    """Save the mapping and options, then start the dry run or the real run (or resume it) as a job."""
    imp = _own(import_id)
    job = db.session.get(Job, imp.job_id) if imp.job_id else None
    if job is not None and not job.finished:
        running = _("dry run") if job.kind == "dry_run" else _("import")
        return _show(imp, _("The %(run)s of this file is still running; wait for it to finish.", run=running), 409)
    if request.form.get("mode") == "resume":
        if not importing.may_resume(db.session, imp, job):
            return _show(imp, _("Only an import that stopped part-way can be resumed."), 409)
        return _start_job(imp, dry=False, resume=True)
    if imp.batch_id:
        return _show(imp, _("This file was imported already; upload it again to repeat."), 409)
    chosen = importing.posted_choices(imp, request.form)
    imp.mapping = importing.clean_mapping(imp.record_type, imp.headers,
                                          {i: request.form.get(f"col_{i}", "") for i in range(len(imp.headers))})
    owner, policy = request.form.get("owner", ""), request.form.get("duplicates", "skip")
    if owner and owner not in dict(owner_choices(db.session, current_user, imp.record_type)):
        return _show(imp, _("Choose an owner from the list."), 422)
    imp.owner_choice, imp.duplicates = owner, policy if policy in importing.DUPLICATE_POLICIES else "skip"
    try:
        undecided = importing.prepare_values(db.session, imp, current_user, chosen, importing.remembered_values(
            db.session, imp.record_type, imp.headers))
    except DomainError as error:
        return _show(imp, str(error), 422)
    if undecided:
        db.session.commit()
        flash(ngettext("%(num)s value in the file is not known here: choose what it becomes, then run again.",
                       "%(num)s values in the file are not known here: choose what each becomes, then run again.",
                       undecided))
        return redirect(url_for("imports.show", import_id=imp.id, _anchor="values-heading"), code=303)
    importing.remember_mapping(db.session, imp.record_type, imp.headers, imp.mapping, imp.value_map)
    return _start_job(imp, dry=request.form.get("mode") != "run")


def _start_job(imp: ImportJob, dry: bool, resume: bool = False):
    job = jobs.create_job(db.session, "dry_run" if dry else "import", current_user,
                          "crm.services.importing.run_import", total=imp.row_count, import_id=imp.id, dry_run=dry,
                          resume=resume)
    imp.job_id, job.link = job.id, url_for("imports.show", import_id=imp.id)
    db.session.commit()
    run_job(job.id)
    return redirect(url_for("imports.show", import_id=imp.id), code=303)


@bp.get("/<import_id>/rejects.csv")
def rejects(import_id: str):
    """The rejected rows of the last run, with an error column (formula cells neutralized)."""
    imp = _own(import_id)
    path = imp.report.get("rejects") if imp.report else None
    if not path or not Path(path).exists():
        abort(404)
    name = Path(imp.filename).stem + ("-dry-run" if imp.report.get("dry_run") else "") + "-rejected.csv"
    return send_file(path, mimetype="text/csv", as_attachment=True, download_name=name)


def _own(import_id: str) -> ImportJob:
    imp = db.get_or_404(ImportJob, import_id)
    if imp.actor_id != current_user.id and not current_user.is_admin:
        abort(403, "This import belongs to someone else.")
    return imp
