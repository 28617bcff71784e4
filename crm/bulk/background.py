"""Mass changes too large to wait for: a background job runs the same action on the same set (one
transaction, set-based, the count the user confirmed checked again), then tells whoever started it,
with a bell notification and an email, and links to the batch page (where Undo is)."""
from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict

from crm.bulk.forms import ActionRequest, read_selection
from crm.i18n import _
from crm.models import Batch, Job, User
from crm.services import DomainError, bulk, jobs
from crm.services.trash import undo_batch
from crm.services.record_types import RECORD_TYPES
from crm.tasks import run_job

JOB_FUNCTION = "crm.bulk.background:run_mass_change"
UNDO_FUNCTION = "crm.bulk.background:run_undo"
BATCH = "__batch__"  # stands for the batch id in the link the view hands the job


def start(session: Session, actor: User, args: list[tuple[str, str]], req: ActionRequest, batch_link: str) -> Job:
    """Queue the mass change; `args` is the selection as the drawer's forms send it."""
    job = jobs.create_job(session, "mass_change", actor, JOB_FUNCTION, total=req.count or 0, args=args,
                          action=req.action, new_owner=req.new_owner, new_stage=req.new_stage, expected=req.count,
                          pinned=req.pinned or "none seen", batch_link=batch_link)
    run_job(job.id)
    return job


def run_mass_change(session: Session, job: Job, *, args: list, action: str, new_owner: str,
                    new_stage: int | None, expected: int | None, pinned: str, batch_link: str) -> None:
    """The job: rebuild the selection as its starter sees it, apply the action, report."""
    actor = session.get(User, job.actor_id)
    sel = read_selection(session, MultiDict([tuple(pair) for pair in args]), actor)
    jobs.progress(session, job, 0, _("Changing %(records)s…", records=bulk.count_phrase(expected or 0, sel.rtype)))
    session.commit()
    try:
        outcome = bulk.apply_action(session, sel, action, new_owner=new_owner, new_stage=new_stage,
                                    expected=expected if expected is not None else -1, pinned=pinned)
    except DomainError as error:  # refused as a whole: nothing was changed
        session.rollback()
        jobs.fail(session, job, _("%(reason)s Nothing was changed.", reason=error))
        return
    link = batch_link.replace(BATCH, outcome.batch.id) if outcome.batch else ""
    jobs.finish(session, job, outcome.message or _("Nothing was changed."), link=link,
                result={"batch_id": outcome.batch.id if outcome.batch else None, "changed": outcome.changed})


def start_undo(session: Session, actor: User, batch: Batch, include_changed: bool, batch_link: str) -> Job:
    """Queue the Undo of a large batch: it never waits on a request's timeout."""
    job = jobs.create_job(session, "undo", actor, UNDO_FUNCTION, total=batch.count, batch_id=batch.id,
                          include_changed=include_changed, batch_link=batch_link)
    run_job(job.id)
    return job


def run_undo(session: Session, job: Job, *, batch_id: str, include_changed: bool, batch_link: str) -> None:
    """The job: the same Undo as the batch page's button (one transaction), then tell its starter."""
    actor = session.get(User, job.actor_id)
    jobs.progress(session, job, 0, _("Undoing %(records)s…", records=_batch_phrase(session, batch_id)))
    session.commit()
    try:
        outcome = undo_batch(session, batch_id, actor, include_changed=include_changed)
    except DomainError as error:
        session.rollback()
        jobs.fail(session, job, _("%(reason)s Nothing was changed.", reason=error))
        return
    jobs.finish(session, job, outcome.message or _("Nothing was changed."), link=batch_link,
                result={"batch_id": outcome.batch.id if outcome.batch else None, "changed": outcome.changed})


def _batch_phrase(session: Session, batch_id: str) -> str:
    batch = session.get(Batch, batch_id)
    rtype = RECORD_TYPES.get(batch.record_type)
    return bulk.count_phrase(batch.count, rtype) if rtype else str(batch.count)
