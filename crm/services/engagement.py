"""Notes, activities and emails on a record: adding, planning, completing, reopening and logging,
each written to history."""
from datetime import datetime

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from crm.i18n import _l
from crm.models import Activity, EmailMessage, Lead, Note, User
from crm.models.engagement import ACTIVITY_KINDS
from crm.models.mixins import utcnow
from crm.params import to_datetime
from crm.services import DomainError
from crm.services import history, scoring
from crm.services.editing import require_changeable
from crm.services.record_types import RecordType


def activities_select(rtype: RecordType, record_id: int) -> Select:
    """A record's activities: open ones first by due date (undated last), then the done ones."""
    return (select(Activity).where(getattr(Activity, f"{rtype.name}_id") == record_id)
            .order_by(Activity.done, Activity.due_at.is_(None), Activity.due_at, Activity.id))


def activity_of(rtype: RecordType, record_id: int, activity_id: int) -> Select:
    """The activity, only if it is attached to this record (an id from another record matches nothing)."""
    return select(Activity).where(Activity.id == activity_id,
                                  getattr(Activity, f"{rtype.name}_id") == record_id)


def add_note(session: Session, rtype: RecordType, record, body: str, actor: User) -> Note:
    """Attach a note; its start shows in the timeline."""
    _guard(rtype, record, actor)
    body = (body or "").strip()
    if not body:
        raise DomainError("A note cannot be empty.")
    note = Note(body=body[:10000], author_id=actor.id, **{f"{rtype.name}_id": record.id})
    session.add(note)
    history.log(session, rtype.name, record.id, actor.id, "note", new=body[:120])
    return note


def emails_select(rtype: RecordType, record_id: int) -> Select:
    """A record's logged emails, the newest first (those carried from a deal or a lead included)."""
    return (select(EmailMessage).where(getattr(EmailMessage, f"{rtype.name}_id") == record_id)
            .order_by(EmailMessage.sent_at.desc(), EmailMessage.id.desc()))


def log_email(session: Session, rtype: RecordType, record, subject: str, sender: str, recipient: str,
              sent: str | None, body: str, actor: User) -> EmailMessage:
    """Log an email sent or received outside the CRM; its subject shows in the timeline. `sent` is ISO
    text (a datetime-local value); empty means now."""
    _guard(rtype, record, actor)
    subject, sender, recipient = ((v or "").strip() for v in (subject, sender, recipient))
    if not subject:
        raise DomainError(_l("An email needs a subject; it was not logged."))
    if len(subject) > 255 or len(sender) > 254 or len(recipient) > 254:
        raise DomainError(_l("The subject or an address is too long; the email was not logged."))
    email = EmailMessage(subject=subject, sender=sender, recipient=recipient, body=(body or "").strip()[:100_000],
                         sent_at=_when(sent, _l("The date is not a date; the email was not logged.")) or utcnow(),
                         **{f"{rtype.name}_id": record.id})
    session.add(email)
    history.log(session, rtype.name, record.id, actor.id, "email", new=subject[:120])
    _rescore(session, record)
    return email


def plan_activity(session: Session, rtype: RecordType, record, kind: str, subject: str, due: str | None,
                  actor: User) -> Activity:
    """Plan a call, meeting, task or email, owned by the actor; due is ISO text (a datetime-local value) or empty."""
    _guard(rtype, record, actor)
    subject = (subject or "").strip()
    if not subject or kind not in ACTIVITY_KINDS:
        raise DomainError("An activity needs a subject and a kind.")
    activity = Activity(kind=kind, subject=subject[:200], owner_id=actor.id,
                        due_at=_when(due, _l("The due date is not a date; the activity was not added.")),
                        **{f"{rtype.name}_id": record.id})
    session.add(activity)
    history.log(session, rtype.name, record.id, actor.id, "activity", new=_label(activity))
    _rescore(session, record)
    return activity


def complete_activity(session: Session, rtype: RecordType, record, activity: Activity, actor: User) -> bool:
    """Mark an open activity done; returns False (and logs nothing) when it already was."""
    return _set_done(session, rtype, record, activity, actor, True)


def reopen_activity(session: Session, rtype: RecordType, record, activity: Activity, actor: User) -> bool:
    """Make a done activity open again; returns False (and logs nothing) when it already was open."""
    return _set_done(session, rtype, record, activity, actor, False)


def _set_done(session: Session, rtype: RecordType, record, activity: Activity, actor: User, done: bool) -> bool:
    _guard(rtype, record, actor)
    if getattr(activity, f"{rtype.name}_id") != record.id:
        raise DomainError(f"This activity belongs to another {rtype.label.lower()}.")
    if activity.done == done:
        return False
    activity.done, activity.done_at = done, utcnow() if done else None
    history.log(session, rtype.name, record.id, actor.id, "activity_done" if done else "activity_reopened",
                new=_label(activity))
    _rescore(session, record)
    return True


def _rescore(session: Session, record) -> None:
    """A lead's score reads its activities (done lately, overdue)."""
    if isinstance(record, Lead):
        session.flush()
        scoring.rescore_record(session, record)


def _guard(rtype: RecordType, record, actor: User) -> None:
    """The rules for editing the record itself; a converted lead is read-only as well."""
    require_changeable(actor, record)
    if getattr(record, "converted_at", None) is not None:
        raise DomainError(f"This {rtype.label.lower()} was converted and is read-only.")


def _when(raw: str | None, refusal) -> datetime | None:
    """None for an empty input; a date and time within years people plan in; otherwise refused."""
    if not (raw or "").strip():
        return None
    moment = to_datetime(raw)
    if moment is None:
        raise DomainError(refusal)
    return moment


def _label(activity: Activity) -> str:
    """"call: Site visit", as the timeline shows it."""
    return f"{activity.kind}: {activity.subject[:100]}"
