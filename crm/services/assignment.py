"""Assignment rules: ordered, the first rule whose conditions all hold gives a lead its owner.

New leads are routed one by one as they are created (form, web capture, API) unless someone chose
their owner; "Run rules" routes a whole filter result again through the bulk engine, rule by rule
in SQL. Owners always come from crm/services/owners.py (a pool takes its turns there), and history
names the rule ("owner set to Ana (assignment rule “EU web leads”)").
"""
from datetime import datetime

from sqlalchemy import Column, Integer, Table, and_, case, func, insert, literal, select, true, update
from sqlalchemy.orm import Session

from crm.i18n import _, _l, ngettext
from crm.models import AssignmentRule, HistoryEvent, Lead, Territory, User
from crm.models.mixins import utcnow
from crm.services import DomainError, PermissionDenied, history, owners
from crm.services import lead_conditions as conditions
from crm.services.bulk.engine import PICK, SCRATCH, Change, Outcome, run, scratch_table
from crm.services.bulk.selection import Selection
from crm.services.permissions import may_mass_change
from crm.services.wording import count_phrase

ROUTED = Table("bulk_routed", SCRATCH, Column("id", Integer, primary_key=True), Column("owner_id", Integer),
               Column("team_id", Integer), Column("rule_id", Integer))
MAX_CONDITIONS = 5


def rules(session: Session) -> list[AssignmentRule]:
    """The rules in the order they are tried."""
    return list(session.scalars(select(AssignmentRule).order_by(AssignmentRule.position, AssignmentRule.id)))


def owner_label(session: Session, rule: AssignmentRule) -> str:
    if rule.owner_choice == owners.TERRITORY_OWNER:
        return _("the territory's owner")
    return owners.choice_label(session, rule.owner_choice)


def describe(session: Session, rule: AssignmentRule) -> str:
    """"source Web form and score at least 50", or "every lead" without conditions."""
    words = [conditions.describe(session, kind, value) for kind, value in rule.conditions]
    return _(" and ").join(words) if words else _("every lead")


def add_rule(session: Session, actor: User, name: str, wanted: list[tuple[str, str]], owner_choice: str) -> AssignmentRule:
    """A new rule, tried after the existing ones."""
    _guard(actor)
    name = " ".join((name or "").split())[:80]
    if not name:
        raise DomainError(_l("An assignment rule needs a name."))
    cleaned = [[kind, conditions.clean_value(session, kind, value, conditions.ASSIGNMENT_KINDS)]
               for kind, value in wanted if kind][:MAX_CONDITIONS]
    owner_choice = (owner_choice or "").strip()
    if owner_choice != owners.TERRITORY_OWNER:
        if owners.parse_choice(owner_choice)[0] is None:
            raise DomainError(_l("Choose who gets the leads."))
        owners.check_choice(session, owner_choice, None, "lead")
    position = (session.scalar(select(func.max(AssignmentRule.position))) or 0) + 1
    rule = AssignmentRule(name=name, conditions=cleaned, owner_choice=owner_choice, position=position)
    session.add(rule)
    session.flush()
    return rule


def delete_rule(session: Session, actor: User, rule: AssignmentRule) -> None:
    _guard(actor)
    session.delete(rule)
    session.flush()


def move_rule(session: Session, actor: User, rule: AssignmentRule, step: int) -> None:
    """One place earlier (-1) or later (+1) in the order."""
    _guard(actor)
    ordered = rules(session)
    i = ordered.index(rule)
    j = min(max(i + step, 0), len(ordered) - 1)
    ordered.insert(j, ordered.pop(i))
    for position, r in enumerate(ordered, start=1):
        r.position = position
    session.flush()


def _guard(actor: User) -> None:
    if not actor.is_admin:
        raise PermissionDenied(_l("Only admins can change the assignment rules."))


def _holds(session: Session, rule: AssignmentRule, now: datetime):
    """The rule's conditions as one WHERE clause on Lead."""
    kinds = conditions.custom_kinds(session)
    return and_(true(), *(conditions.predicate(kind, value, now, kinds) for kind, value in rule.conditions))


# --- one new lead ---------------------------------------------------------------------------------

def route_new(session: Session, lead: Lead, actor: User | None, batch_id: str | None = None) -> AssignmentRule | None:
    """Give a new lead the owner of the first rule that holds for it (and can hand it to someone);
    history names the rule. None when no rule routed it (the lead keeps its owner)."""
    found = rules(session)
    if not found:
        return None
    now = utcnow()
    session.flush()
    holds = session.execute(select(*(case((_holds(session, r, now), True), else_=False) for r in found))
                            .where(Lead.id == lead.id)).one()
    for rule, held in zip(found, holds):
        if not held:
            continue
        owner = owners.route(session, rule.owner_choice, lead.territory_id, "lead").user
        if owner is None:
            continue
        old = lead.owner_id
        lead.owner_id, lead.team_id = owner.id, owner.team_id
        session.flush()
        history.log(session, "lead", lead.id, actor.id if actor else None, "update", field="owner_id", old=old,
                    new=owner.id, batch_id=batch_id, via=f"rule:{rule.id}")
        return rule
    return None


# --- Run rules on a filter result (the mass-change drawer) ----------------------------------------

def preview_rules(session: Session, sel: Selection) -> list[tuple[str, str, int]]:
    """How the set would be routed, read-only (no pool takes a turn): (rule, owner, leads) per rule in
    order, then ("", "", leads no rule matches)."""
    now, earlier, rows = utcnow(), [], []
    for rule in rules(session):
        holds = _holds(session, rule, now)
        n = session.scalar(select(func.count()).select_from(Lead).where(*sel.conditions(), holds,
                                                                        *(~e for e in earlier)))
        rows.append((rule.name, owner_label(session, rule), n))
        earlier.append(holds)
    rest = session.scalar(select(func.count()).select_from(Lead).where(*sel.conditions(), *(~e for e in earlier)))
    return rows + [("", "", rest)]


def run_rules(session: Session, sel: Selection, *, expected: int | None, pinned: str | None = None) -> Outcome:
    """Route every lead of the set again: each goes to the owner of the first rule that holds for it
    (pools spread theirs in turn); leads no rule matches keep their owner. One batch, undoable."""
    if sel.rtype.name != "lead":
        raise DomainError(_l("Assignment rules route leads only."))
    if not may_mass_change(sel.viewer):
        raise PermissionDenied(_l("Only admins and managers can make mass changes."))
    found = rules(session)
    if not found:
        raise DomainError(_l("There are no assignment rules yet: an admin adds them under Administration."))

    def prepare(s: Session) -> None:
        scratch_table(s, ROUTED)
        now = utcnow()
        for rule in found:
            left = select(PICK.c.id).where(PICK.c.id.not_in(select(ROUTED.c.id)))
            ids = select(Lead.id).where(Lead.id.in_(left), _holds(s, rule, now)).order_by(Lead.id)
            _route_set(s, rule, ids)
        owners.check_assignable_all(s, select(ROUTED.c.owner_id).distinct(), sel.viewer)

    def per_lead(column, current):
        return func.coalesce(select(column).where(ROUTED.c.id == Lead.id).scalar_subquery(), current)

    change = Change("route", {"owner_id": per_lead(ROUTED.c.owner_id, Lead.owner_id),
                              "team_id": per_lead(ROUTED.c.team_id, Lead.team_id)},
                    phrase=lambda n: _("routed %(records)s by the assignment rules", records=count_phrase(n, sel.rtype)),
                    params={"rules": [r.id for r in found]}, prepare=prepare)
    outcome = run(session, sel.rtype, sel.viewer, sel.conditions(), change, expected=expected, pinned=pinned)
    if outcome.batch is not None:
        _name_rules(session, outcome.batch.id, found)
    unrouted = outcome.selected - session.scalar(select(func.count()).select_from(ROUTED))
    if unrouted:
        outcome.message += " " + ngettext("%(num)s lead matched no rule and kept its owner.",
                                          "%(num)s leads matched no rule and kept their owners.", unrouted)
    return outcome


def _route_set(session: Session, rule: AssignmentRule, ids) -> None:
    """Into ROUTED: (lead, owner, team, rule) for the leads `ids` selects, through the owner service."""
    if rule.owner_choice == owners.TERRITORY_OWNER:
        rows = (select(Lead.id, User.id, User.team_id, literal(rule.id, Integer))
                .join(Territory, Territory.id == Lead.territory_id).join(User, User.id == Territory.owner_id)
                .where(Lead.id.in_(ids.with_only_columns(Lead.id)), User.active))
    else:
        try:
            owners.check_choice(session, rule.owner_choice, None, "lead")
            assigned = owners.resolve_owner_bulk(session, rule.owner_choice, None, "lead", ids).subquery()
        except DomainError:
            return  # a pool without members or an inactive user: the next rule gets its chance
        rows = (select(assigned.c.record_id, assigned.c.owner_id, User.team_id, literal(rule.id, Integer))
                .join(User, User.id == assigned.c.owner_id))
    session.execute(insert(ROUTED).from_select(["id", "owner_id", "team_id", "rule_id"], rows))


def _name_rules(session: Session, batch_id: str, found: list[AssignmentRule]) -> None:
    """The batch's owner events say which rule chose the owner."""
    for rule in found:
        session.execute(update(HistoryEvent).where(
            HistoryEvent.batch_id == batch_id, HistoryEvent.field.in_(("owner_id", "team_id")),
            HistoryEvent.record_id.in_(select(ROUTED.c.id).where(ROUTED.c.rule_id == rule.id)))
            .values(via=f"rule:{rule.id}").execution_options(synchronize_session=False))
