"""Mass changes too large to wait for: a background job runs the same action on the same set (one
transaction, set-based, the count the user confirmed checked again), then tells whoever started it,
with a bell notification and an email, and links to the batch page (where Undo is)."""
from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict

from crm.bulk.forms import ActionRequest, read_selection
from crm.i18n import _
from crm.models import Job, User
from crm.services import DomainError, bulk, jobs
from crm.tasks import run_job

JOB_FUNCTION = "crm.bulk.background:run_mass_change"
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
