"""Owner resolution: the one place that turns an owner choice ("user:3" or "pool:2") into a user.

Every entry point (record forms, mass change, import, web capture, conversion, API) calls this
module, so a pool's shared pointer is advanced the same way everywhere. Choices may also name
their pool or user ("pool:Inbound EU", "user:ana@example.com"), as integrations write them.
"""
from dataclasses import dataclass

from sqlalchemy import Select, func, literal, select
from sqlalchemy.orm import Session

from crm.i18n import _l
from crm.models import Role, Territory, User
from crm.models.pools import Pool
from crm.params import shown, to_id
from crm.services import DomainError
from crm.services import pools


@dataclass(frozen=True)
class Assignment:
    """Who gets a record, and what chose them ("pool:3" when it was a pool's turn; history says so)."""

    user: User | None
    via: str | None = None


def owner_choices(session: Session, viewer: User, record_type: str) -> list[tuple[str, str]]:
    """Owners the viewer may hand records to, as (form value, label); pools of this record type too."""
    stmt = select(User).where(User.active).order_by(User.name)
    if viewer.role == Role.MANAGER:
        stmt = stmt.where(User.team_id == viewer.team_id)
    elif viewer.role == Role.REP:
        stmt = stmt.where(User.id == viewer.id)
    choices = [(f"user:{u.id}", u.name) for u in session.scalars(stmt)]
    if may_use_pools(viewer):
        choices += [(f"pool:{p.id}", p.label) for p in pools.pools_for(session, record_type)
                    if pools.can_take_records(session, p) and _pool_fits_team(p, viewer)]
    return choices


def _pool_fits_team(pool, viewer: User | None) -> bool:
    """A manager may use a pool only when every member is in the manager's team."""
    if viewer is None or viewer.role != Role.MANAGER:
        return True
    return all(m.user.team_id == viewer.team_id for m in pool.members)


def may_use_pools(viewer: User | None) -> bool:
    """Admins, managers and the system (viewer None: capture forms, integrations) route through pools."""
    return viewer is None or viewer.role in (Role.ADMIN, Role.MANAGER)


def assign(session: Session, choice: str, viewer: User | None, record_type: str | tuple[str, ...]) -> Assignment:
    """The user a record gets for an owner choice ("user:3", "3", "pool:2", "pool:Inbound EU" or
    ""), checked against the rules, and the pool whose turn it was. A pool must distribute
    `record_type` (or one of several, when one turn gives a contact and a deal the same person).

    A pool choice takes the pool's next turn (the pointer advances), so call it once per record.
    `viewer` None means the system (a public form, an integration) and skips the viewer's limits.
    """
    kind, ident = parse_choice(canonical_choice(session, choice))
    if kind is None:
        return Assignment(None)
    if kind == "pool":
        _check_pool(session, ident, viewer, record_type)
        return Assignment(session.get(User, pools.next_member(session, ident)), f"pool:{ident}")
    user = session.get(User, ident)
    check_assignable(user, viewer)
    return Assignment(user)


def may_leave_ownerless(viewer: User | None) -> bool:
    """Only admins (and the system) may leave a record without an owner: for anyone else it would
    vanish from their own view and their manager's (a record's team follows its owner)."""
    return viewer is None or viewer.role == Role.ADMIN


def check_owner_kept(owner: User | None, viewer: User | None) -> None:
    """DomainError when `viewer` would leave a record without an owner."""
    if owner is None and not may_leave_ownerless(viewer):
        raise DomainError(_l("Choose an owner: a record without one would disappear from your view and your team's."))


def resolve_owner(session: Session, choice: str, viewer: User | None, record_type: str) -> User | None:
    """`assign` for callers that need only the user."""
    return assign(session, choice, viewer, record_type).user


def resolve_owner_bulk(session: Session, choice: str, viewer: User | None, record_type: str,
                       ids: Select) -> Select:
    """(record_id, owner_id) for every id selected by `ids` (one id column), set-based.

    A user choice gives every record that user; a pool choice spreads the records across its
    members in turn (ordered by record id), reserving all turns with one pointer update. Run it
    once and use the result in the same transaction (e.g. UPDATE ... FROM and history INSERT ...
    SELECT) BEFORE the update changes which ids `ids` selects (or pass a fixed id list).
    """
    kind, ident = parse_choice(canonical_choice(session, choice))
    if kind == "pool":
        _check_pool(session, ident, viewer, record_type)
        return pools.spread_select(session, ident, ids)
    owner_id = None
    if kind == "user":
        user = session.get(User, ident)
        check_assignable(user, viewer)
        owner_id = user.id
    inner = ids.subquery()
    return select(inner.c[0].label("record_id"), literal(owner_id).label("owner_id"))


def resolve_owners(session: Session, choices: list[str], viewer: User | None, record_type: str) -> list[int | None]:
    """resolve_owner_id for many new records at once, in order (an import's chunk).

    Each distinct choice is checked once; each pool's turns are reserved with one pointer update,
    handed out in the order of the records.
    """
    for choice in set(choices):
        check_choice(session, choice, viewer, record_type)
    result: list[int | None] = []
    per_pool: dict[int, list[int]] = {}
    for choice in choices:
        kind, ident = parse_choice(choice)
        if kind == "pool":
            per_pool.setdefault(ident, []).append(len(result))
        result.append(ident if kind == "user" else None)
    for pool_id, positions in per_pool.items():
        for position, user_id in zip(positions, pools.take_turns(session, pool_id, len(positions))):
            result[position] = user_id
    return result


def check_choice(session: Session, choice: str, viewer: User | None, record_type: str) -> None:
    """Refuse (DomainError) an owner choice the viewer may not hand records to, as `assign` would;
    a pool takes no turn (a settings page asking "would this work?", an import's dry run)."""
    kind, ident = parse_choice(canonical_choice(session, choice))
    if kind == "pool":
        _check_pool(session, ident, viewer, record_type)
        pool = session.get(Pool, ident)
        if not pools.can_take_records(session, pool):
            raise DomainError(_l("The pool %(name)s has no active member who may take these records.",
                                 name=pool.name))
    elif kind == "user":
        check_assignable(session.get(User, ident), viewer)


def choices_by_name(session: Session, record_type: str) -> dict[str, str | None]:
    """Owner choices by what files and API calls call owners, lowercase: a user's email or name, a
    pool's name (also as "pool:Name"). A name that two of them share maps to None (ambiguous).

    Whether the viewer may use a choice is `check_choice`'s business, so inactive users and
    switched-off pools are named too (and refused there with the reason).
    """
    names: dict[str, str | None] = {}

    def add(key: str, choice: str) -> None:
        key = key.strip().lower()
        names[key] = choice if names.get(key, choice) == choice else None

    for user in session.scalars(select(User)):
        add(user.email, f"user:{user.id}")
        add(user.name, f"user:{user.id}")
    for pool in session.scalars(select(Pool).where(Pool.record_type == record_type)):
        add(pool.name, f"pool:{pool.id}")
        add(f"pool:{pool.name}", f"pool:{pool.id}")
    return names


def parse_choice(choice: str | None) -> tuple[str | None, int]:
    """("user", 3), ("pool", 2) or (None, 0) for no owner; DomainError for anything else."""
    choice = (choice or "").strip()
    if not choice:
        return None, 0
    kind, _, raw = choice.rpartition(":")
    ident = to_id(raw)
    if kind not in ("", "user", "pool") or ident is None:
        raise DomainError(f"Unknown owner {shown(choice)!r}.")
    return kind or "user", ident


def canonical_choice(session: Session, choice: str | None) -> str:
    """A choice naming its pool or user ("pool:Inbound EU", "user:ana@example.com") as ids
    ("pool:2", "user:3"); other choices unchanged. DomainError when nothing has that name."""
    choice = (choice or "").strip()
    kind, sep, name = choice.partition(":")
    name = name.strip()
    if not sep or not name or name.isdigit() or kind not in ("pool", "user"):
        return choice
    if kind == "pool":
        ident = session.scalar(select(Pool.id).where(func.lower(Pool.name) == name.lower()))
        if ident is None:
            raise DomainError(_l("There is no distribution pool called “%(name)s”.", name=name))
    else:
        ident = session.scalar(select(User.id).where(func.lower(User.email) == name.lower()))
        if ident is None:
            raise DomainError(_l("There is no user with the email “%(email)s”.", email=name))
    return f"{kind}:{ident}"


def via_of(choice: str | None) -> str | None:
    """What an owner choice leaves in history beside the owner: "pool:2" for a pool, else None."""
    try:
        kind, ident = parse_choice(choice)
    except DomainError:
        return None
    return f"pool:{ident}" if kind == "pool" else None


def choice_label(session: Session, choice: str) -> str:
    """What an owner choice is called on screen ("Ana Ruiz", "Pool: Inbound EU (round robin)")."""
    try:
        kind, ident = parse_choice(choice)
    except DomainError:
        return choice
    if kind is None:
        return "No owner"
    obj = session.get(pools.Pool if kind == "pool" else User, ident)
    return (obj.label if kind == "pool" else obj.name) if obj else choice


def _check_pool(session: Session, pool_id: int, viewer: User | None, record_type: str | tuple[str, ...]) -> None:
    if not may_use_pools(viewer):
        raise DomainError("Only admins and managers can hand records to a distribution pool.")
    if not _pool_fits_team(pools.get_pool(session, pool_id, record_type), viewer):
        raise DomainError("That pool hands records to people outside your team.")


def check_assignable(user: User | None, viewer: User | None) -> None:
    if user is None:
        raise DomainError("That owner does not exist.")
    if not user.active:
        raise DomainError(f"{user.name} is inactive and cannot own records.")
    if viewer is None:
        return
    if viewer.role == Role.MANAGER and user.team_id != viewer.team_id:
        raise DomainError(f"{user.name} is not in your team.")
    if viewer.role == Role.REP and user.id != viewer.id:
        raise DomainError("Reps can only assign records to themselves.")


def territory_owner(session: Session, territory) -> User | None:
    """Who an auto-assigning territory hands the records entering it to: its owner, while that
    owner may own records (an inactive owner hands nothing; the records keep theirs)."""
    owner = session.get(User, territory.owner_id) if territory.auto_assign and territory.owner_id else None
    try:
        check_assignable(owner, None)
    except DomainError:
        return None
    return owner


def check_assignable_all(session: Session, owner_ids: Select, viewer: User | None) -> None:
    """`check_assignable` for every owner a set-based assignment chose (`owner_ids`: one id column)."""
    for user in session.scalars(select(User).where(User.id.in_(owner_ids)).order_by(User.id)):
        check_assignable(user, viewer)


TERRITORY_OWNER = "territory"  # an assignment rule's owner: whoever owns the lead's territory


def route(session: Session, choice: str, territory_id: int | None, record_type: str) -> Assignment:
    """The owner an assignment rule gives a new record, as the system: a user, a pool's next member, or
    with TERRITORY_OWNER the owner of the record's territory. Assignment(None) when that owner cannot
    take it (no territory, an inactive owner): the next rule gets its chance."""
    if choice == TERRITORY_OWNER:
        territory = session.get(Territory, territory_id) if territory_id else None
        owner = session.get(User, territory.owner_id) if territory and territory.owner_id else None
        try:
            check_assignable(owner, None)
        except DomainError:
            return Assignment(None)
        return Assignment(owner)
    try:
        check_choice(session, choice, None, record_type)
    except DomainError:
        return Assignment(None)
    return assign(session, choice, None, record_type)
