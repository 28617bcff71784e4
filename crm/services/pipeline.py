"""The kanban: columns of deals per stage (through THE filter builder) and moving a deal by drag."""
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from crm.i18n import _, ngettext
from crm.models import Activity, Deal, Pipeline, Stage, User
from crm.params import to_id
from crm.services import DomainError
from crm.services.conversion import convert_deal_to_lead
from crm.services.editing import trash_record, update_record
from crm.services.filters import Filter, filtered_select
from crm.services.record_types import DEAL

PAGE = 20  # cards per column before "load more"


@dataclass
class Column:
    stage: Stage
    count: int
    total: Decimal
    cards: list[Deal]

    @property
    def has_more(self) -> bool:
        return self.count > len(self.cards)


def chosen_pipeline(session: Session, pipeline_id: int | None) -> Pipeline:
    """The pipeline asked for, else the first one."""
    pipeline = session.get(Pipeline, pipeline_id) if pipeline_id else None
    pipeline = pipeline or session.scalar(select(Pipeline).order_by(Pipeline.position, Pipeline.id).limit(1))
    if pipeline is None:
        raise DomainError("There is no pipeline yet: an admin has to create one.")
    return pipeline


def board_columns(session: Session, pipeline: Pipeline, flt: Filter, viewer: User) -> list[Column]:
    """One column per stage: totals from one GROUP BY, the first cards of each stage."""
    totals = column_totals(session, flt, viewer)
    return [Column(stage, *totals.get(stage.id, (0, Decimal(0))),
                   column_cards(session, flt, viewer, stage.id) if totals.get(stage.id) else [])
            for stage in pipeline.stages]


def column_totals(session: Session, flt: Filter, viewer: User) -> dict[int, tuple[int, Decimal]]:
    stmt = (filtered_select(DEAL, flt, viewer, columns=(
        Deal.stage_id, func.count(Deal.id), func.coalesce(func.sum(Deal.value), 0)))
        .group_by(Deal.stage_id))
    return {stage_id: (count, Decimal(total)) for stage_id, count, total in session.execute(stmt)}


def column_cards(session: Session, flt: Filter, viewer: User, stage_id: int, offset: int = 0,
                 limit: int = PAGE) -> list[Deal]:
    stmt = (filtered_select(DEAL, flt, viewer).where(Deal.stage_id == stage_id)
            .order_by(Deal.updated_at.desc(), Deal.id.desc()).offset(offset).limit(limit)
            .options(selectinload(Deal.owner), selectinload(Deal.organization)))
    return list(session.scalars(stmt))


def next_activities(session: Session, deal_ids: list[int]) -> dict[int, Activity]:
    """The earliest open activity of each deal (for the cards)."""
    if not deal_ids:
        return {}
    rows = session.scalars(select(Activity).where(Activity.deal_id.in_(deal_ids), Activity.done.is_(False))
                           .order_by(Activity.due_at.is_(None), Activity.due_at, Activity.id))
    found: dict[int, Activity] = {}
    for activity in rows:
        found.setdefault(activity.deal_id, activity)
    return found


def move_targets(pipeline: Pipeline) -> dict[str, Stage]:
    """The Won and Lost drop zones map to the pipeline's won and lost stages."""
    targets = {}
    for stage in pipeline.stages:
        if stage.is_won:
            targets.setdefault("won", stage)
        if stage.is_lost:
            targets.setdefault("lost", stage)
    return targets


def move_question(target: str, title: str) -> str | None:
    """What the board asks before a move that takes the deal off the board, the same for a drag,
    the "Move to…" menu and the page without JavaScript; None when it moves at once."""
    if target == "lead":
        return _("Convert “%(title)s” into a lead? The deal goes to the trash.", title=title)
    if target == "trash":
        return _("Move “%(title)s” to the trash?", title=title)
    return None


def board_count_words(total: int, pipeline: Pipeline, filtered: bool) -> str:
    """The words after the board's count: "deals in Field sales match the filter"."""
    if filtered:
        return ngettext("deal in %(pipeline)s matches the filter", "deals in %(pipeline)s match the filter",
                        total, pipeline=pipeline.name)
    return ngettext("deal in %(pipeline)s", "deals in %(pipeline)s", total, pipeline=pipeline.name)


def select_all_text(total: int) -> str:
    return _("Select all %(count)s matching the filter", count=f"{total:,}")


def move_deal(session: Session, deal: Deal, target: str, actor: User) -> str:
    """Apply a drop (or a "Move to..." choice); returns what happened, in words.

    target: "stage:ID", "won", "lost", "trash" or "lead".
    """
    if target == "lead":
        result = convert_deal_to_lead(session, deal, actor)
        return (f"“{deal.title}” is now a lead." if result.created
                else f"“{deal.title}” was already converted to a lead.")
    if target == "trash":
        trash_record(session, deal, actor)
        return f"“{deal.title}” moved to the trash."
    stage = _target_stage(session, deal, target)
    if stage.id == deal.stage_id:
        return f"“{deal.title}” is already in {stage.name}."
    update_record(session, deal, {"stage_id": stage.id, "pipeline_id": stage.pipeline_id}, actor)
    return f"“{deal.title}” moved to {stage.name}."


def _target_stage(session: Session, deal: Deal, target: str) -> Stage:
    if target in ("won", "lost"):
        stage = move_targets(deal.pipeline).get(target)
        if stage is None:
            raise DomainError(f"The pipeline {deal.pipeline.name} has no {target} stage.")
        return stage
    kind, _, raw = target.partition(":")
    stage_id = to_id(raw) if kind == "stage" else None
    stage = session.get(Stage, stage_id) if stage_id else None
    if stage is None:
        raise DomainError("That stage does not exist (any more). Reload the board.")
    return stage
