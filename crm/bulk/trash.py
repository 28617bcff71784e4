"""The trash: deleted records with Restore per record and per batch, and the purge command."""
import re
from datetime import timedelta

import click
from flask import abort, flash, redirect, request, url_for
from flask_login import current_user, login_required

from crm.bulk.routes import bp, run_and_flash
from crm.extensions import db
from crm.models import Batch
from crm.paging import paginate
from crm.params import to_id
from crm.rendering import render
from crm.services import DomainError
from crm.services.deal_restore import restore_one
from crm.services.permissions import can_edit, may_mass_change
from crm.services.record_types import RECORD_TYPES
from crm.services.trash import purge_trash, restore_batch, trash_batches, trash_counts, trash_select


@bp.get("/trash")
@login_required
def trash():
    """Records in the trash that the viewer may change, by type, with the batches they came from."""
    counts = trash_counts(db.session, current_user)  # only the types the viewer works with
    name = request.args.get("type") or next((n for n, c in counts.items() if c), next(iter(counts)))
    rtype = RECORD_TYPES.get(name) or abort(404)
    pagination, notice = paginate(trash_select(rtype, current_user), per_page=50)
    return render("bulk/trash.html", "trash", rtype=rtype, counts=counts, pagination=pagination, notice=notice,
                  batches=trash_batches(db.session, current_user),
                  types={n: RECORD_TYPES[n] for n in counts}, may_restore_batches=may_mass_change(current_user))


@bp.post("/trash/restore")
@login_required
def restore():
    """Bring one record back from the trash."""
    rtype = RECORD_TYPES.get(request.form.get("type", "")) or abort(400, "Unknown record type.")
    record_id = to_id(request.form.get("id"))
    record = db.session.get(rtype.model, record_id) if record_id else None
    if record is None or record.deleted_at is None:
        abort(404)
    if not can_edit(current_user, record):
        abort(403, f"You cannot restore this {rtype.label.lower()}: it belongs to someone else.")
    try:
        flash(restore_one(db.session, rtype, record, current_user))
    except DomainError as error:
        flash(str(error), "error")
    db.session.commit()
    return redirect(url_for("bulk.trash", type=rtype.name), code=303)


@bp.post("/trash/batches/<batch_id>/restore")
@login_required
def restore_deleted_batch(batch_id: str):
    """Bring back every record of one mass deletion (or deal conversion) that is still in the trash."""
    batch = db.get_or_404(Batch, batch_id)
    run_and_flash(lambda: restore_batch(db.session, batch_id, current_user))
    return redirect(url_for("bulk.trash", type=batch.record_type), code=303)


def parse_age(raw: str) -> timedelta:
    """'30d', '12h' or '2w' as a timedelta."""
    match = re.fullmatch(r"\s*(\d{1,5})\s*([dhw])\s*", raw or "")
    if not match:
        raise click.BadParameter(f"{raw!r} is not an age: use a number and d, h or w (30d, 12h, 2w).")
    n, unit = int(match[1]), match[2]
    return {"d": timedelta(days=n), "h": timedelta(hours=n), "w": timedelta(weeks=n)}[unit]


@bp.cli.command("purge-trash")
@click.option("--older-than", "older_than", required=True, help="Purge records in the trash longer than this (30d, 12h, 2w).")
def purge_trash_command(older_than: str) -> None:
    """Delete for good the records that have been in the trash longer than --older-than."""
    age = parse_age(older_than)
    purged = purge_trash(db.session, age)
    db.session.commit()
    parts = [f"{n:,} {RECORD_TYPES[name].plural if n != 1 else name}" for name, n in purged.items()]
    click.echo(f"Purged {', '.join(parts)} from the trash (older than {older_than.strip()}).")
