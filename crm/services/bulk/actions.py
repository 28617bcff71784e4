"""The three mass-change actions: reassign, change stage/status, delete (admins and managers)."""
from __future__ import annotations

import unicodedata
from collections.abc import Callable

from sqlalchemy import Column, Integer, Table, func, insert, literal, select
from sqlalchemy.orm import Session

from crm.formatting import number
from crm.i18n import _, _l, ngettext
from crm.models import Pool, User
from crm.models.mixins import utcnow
from crm.services import DomainError, PermissionDenied
from crm.services import owners
from crm.services.bulk.engine import PICK, SCRATCH, Change, Outcome, run, scratch_table
from crm.services.bulk.selection import Selection
from crm.services.fields import SOURCE_MODELS, column_values
from crm.services.permissions import may_mass_change, may_purge
from crm.services.wording import count_phrase

ENGLISH_WORDS = {"reassign": "REASSIGN", "change": "CHANGE", "delete": "DELETE", "route": "ROUTE"}
# TRANSLATORS: the word a user types (in capitals) to confirm a mass reassign / change / deletion; one easy word.
WORDS = {"reassign": _l("REASSIGN"), "change": _l("CHANGE"), "delete": _l("DELETE"), "route": _l("ROUTE")}
# Letters people type for the same word: Arabic yeh and kaf on a Persian keyboard.
_SAME_LETTER = str.maketrans({"ي": "ی", "ى": "ی", "ك": "ک"})
ASSIGN = Table("bulk_assign", SCRATCH, Column("id", Integer, primary_key=True),
               Column("owner_id", Integer), Column("team_id", Integer))


def confirmed(action: str, typed: str) -> bool:
    """The typed word is the action's word in the user's language, or the English word, as written
    (capitals: a deliberate act), whichever way the keyboard composes its letters (É, ی/ي)."""
    return action in WORDS and _fold(typed) in {_fold(str(WORDS[action])), _fold(ENGLISH_WORDS[action])}


def _fold(word: str) -> str:
    return unicodedata.normalize("NFC", word.strip()).translate(_SAME_LETTER)


def apply_action(session: Session, sel: Selection, action: str, *, new_owner: str = "", new_stage: int | None = None,
                 expected: int | None, pinned: str | None = None) -> Outcome:
    """Run the named mass change ("reassign", "change" or "delete") on the set."""
    if action == "reassign":
        return reassign(session, sel, new_owner, expected=expected, pinned=pinned)
    if action == "change":
        return change_stage(session, sel, new_stage, expected=expected, pinned=pinned)
    if action == "delete":
        return delete(session, sel, expected=expected, pinned=pinned)
    if action == "route":
        from crm.services.assignment import run_rules  # assignment runs on this package's engine
        return run_rules(session, sel, expected=expected, pinned=pinned)
    raise DomainError(_("Choose Reassign, Change stage or Delete records."))


def reassign(session: Session, sel: Selection, choice: str, *, expected: int | None,
             pinned: str | None = None, chunk_size: int | None = None,
             fault: Callable[[int], None] | None = None) -> Outcome:
    """Give every record of the set a new owner (team follows owner); a pool spreads them."""
    _guard(sel.viewer, "reassign")
    owner, team, prepare = _owner_plan(session, sel, choice)
    label = owners.choice_label(session, choice)
    change = Change("reassign", {"owner_id": owner, "team_id": team},
                    phrase=lambda n: _("reassigned %(records)s to %(owner)s", records=count_phrase(n, sel.rtype),
                                       owner=label),
                    params={"owner": choice, "owner_label": label}, prepare=prepare,
                    via=owners.via_of(choice))
    outcome = run(session, sel.rtype, sel.viewer, sel.conditions(), change, expected=expected,
                  pinned=pinned, chunk_size=chunk_size, fault=fault)
    same = outcome.selected - outcome.changed
    if prepare is not None:
        outcome.message = _spread_message(session, sel, choice, outcome)
    elif same and outcome.changed:
        outcome.message += " " + ngettext(
            "%(records)s already belonged to %(owner)s and stayed as it was.",
            "%(records)s already belonged to %(owner)s and stayed as they were.", same,
            records=count_phrase(same, sel.rtype), owner=label)
    elif not outcome.changed:
        outcome.message = ngettext("Nothing to change: that %(records)s already belonged to %(owner)s.",
                                   "Nothing to change: the %(records)s already belonged to %(owner)s.", same,
                                   records=count_phrase(same, sel.rtype), owner=label)
    return outcome


def _owner_plan(session: Session, sel: Selection, choice: str):
    """New owner/team as SQL: one user for all (literals), or per record from the owner service (pools)."""
    kind, _ident = owners.parse_choice(choice)
    if kind is None:
        raise DomainError(_("Choose the new owner."))
    model = sel.rtype.model
    if kind == "user":
        user = owners.resolve_owner(session, choice, sel.viewer, sel.rtype.name)
        return literal(user.id, Integer), literal(user.team_id, Integer), None

    def spread(s: Session) -> None:
        scratch_table(s, ASSIGN)
        assigned = owners.resolve_owner_bulk(s, choice, sel.viewer, sel.rtype.name,
                                             select(PICK.c.id).order_by(PICK.c.id)).subquery()
        s.execute(insert(ASSIGN).from_select(
            ["id", "owner_id", "team_id"],
            select(assigned.c.record_id, assigned.c.owner_id, User.team_id)
            .select_from(assigned).outerjoin(User, User.id == assigned.c.owner_id)))
        owners.check_assignable_all(s, select(ASSIGN.c.owner_id).distinct(), sel.viewer)

    def per_record(column):
        return select(column).where(ASSIGN.c.id == model.id).scalar_subquery()

    return per_record(ASSIGN.c.owner_id), per_record(ASSIGN.c.team_id), spread


def _spread_message(session: Session, sel: Selection, choice: str, outcome: Outcome) -> str:
    """How a pool spread the set: "Reassigned through the pool Inbound EU: 53 leads: Ana Ruiz 17, ..."."""
    counts = session.execute(select(User.name, func.count()).select_from(ASSIGN)
                             .join(User, User.id == ASSIGN.c.owner_id).group_by(User.name).order_by(User.name)).all()
    spread = ", ".join(f"{name} {number(n)}" for name, n in counts)
    _kind, pool_id = owners.parse_choice(choice)
    message = _("Reassigned through the pool %(pool)s — %(records)s: %(spread)s.",
                pool=session.get(Pool, pool_id).name, records=count_phrase(outcome.selected, sel.rtype), spread=spread)
    same = outcome.selected - outcome.changed
    if same:
        message += " " + ngettext("%(num)s of them already belonged to the member whose turn it was.",
                                  "%(num)s of them already belonged to the member whose turn it was.", same)
    return message


def change_stage(session: Session, sel: Selection, stage_id: int | None, *, expected: int | None,
                 pinned: str | None = None, chunk_size: int | None = None,
             fault: Callable[[int], None] | None = None) -> Outcome:
    """Move every deal to a pipeline stage, or every lead to a lead status."""
    _guard(sel.viewer, "change")
    position = sel.rtype.position_field
    if position is None:
        raise DomainError(_("These records have no stage or status to change."))
    what = position.name  # "stage" or "status"
    target = session.get(SOURCE_MODELS[position.choices], stage_id) if stage_id else None
    if target is None:
        raise DomainError(_("Choose the new stage.") if what == "stage" else _("Choose the new status."))
    fields = {name: literal(value, Integer) for name, value in column_values(position, target).items()}
    label = str(target)
    change = Change("change", fields,
                    phrase=lambda n: (_("changed the stage of %(records)s to %(stage)s", stage=label,
                                        records=count_phrase(n, sel.rtype)) if what == "stage" else
                                      _("changed the status of %(records)s to %(status)s", status=label,
                                        records=count_phrase(n, sel.rtype))),
                    params={what: target.id, "label": label})
    outcome = run(session, sel.rtype, sel.viewer, sel.conditions(), change, expected=expected,
                  pinned=pinned, chunk_size=chunk_size, fault=fault)
    if not outcome.changed:
        records = count_phrase(outcome.selected, sel.rtype)
        outcome.message = (
            ngettext("Nothing to change: the %(records)s already has the stage %(stage)s.",
                     "Nothing to change: the %(records)s already have the stage %(stage)s.", outcome.selected,
                     records=records, stage=label) if what == "stage" else
            ngettext("Nothing to change: the %(records)s already has the status %(status)s.",
                     "Nothing to change: the %(records)s already have the status %(status)s.", outcome.selected,
                     records=records, status=label))
    return outcome


def delete(session: Session, sel: Selection, *, expected: int | None, pinned: str | None = None,
           chunk_size: int | None = None, fault: Callable[[int], None] | None = None) -> Outcome:
    """Move every record of the set to the trash (soft delete); restore from /trash or Undo."""
    _guard(sel.viewer, "delete")
    now = utcnow()
    change = Change("delete", extra={"deleted_at": now}, kind="delete",
                    phrase=lambda n: _("deleted %(records)s", records=count_phrase(n, sel.rtype)))
    return run(session, sel.rtype, sel.viewer, sel.conditions(), change, expected=expected,
               pinned=pinned, chunk_size=chunk_size, fault=fault, now=now)


def _guard(viewer: User, action: str) -> None:
    if not may_mass_change(viewer):
        raise PermissionDenied(_("Only admins and managers can make mass changes."))
    if action == "delete" and not may_purge(viewer):
        raise PermissionDenied(_("Only admins can delete records in bulk."))
