"""The pipeline kanban: columns per stage, load more per column, moving a card (drag or menu)."""
from types import SimpleNamespace
from urllib.parse import urlencode

from flask import Blueprint, flash, jsonify, redirect, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from crm.extensions import db
from crm.models import Deal, Pipeline, Stage
from crm.models.mixins import utcnow
from crm.params import to_int
from crm.records.views import filter_options
from crm.rendering import render, wants_fragment
from crm.services import DomainError, PermissionDenied
from crm.services.conversion import may_convert_deals
from crm.services.filters import parse_filter
from crm.services.permissions import can_edit, can_view
from crm.services.pipeline import (
    PAGE, board_columns, board_count_words, chosen_pipeline, column_cards, column_totals, move_deal,
    move_question, move_targets, next_activities, select_all_text,
)
from crm.services.offers import offers
from crm.services.record_types import DEAL
from crm.formatting import money

bp = Blueprint("pipeline", __name__)
NOT_FILTER_ARGS = ("csrf_token", "to", "ids", "all", "type", "offset", "confirmed", "from")


@bp.get("/pipeline")
@login_required
def board():
    """The kanban of one pipeline, filtered like /deals; htmx gets the board block only."""
    flt, pipeline = _board_filter(request.args)
    columns = board_columns(db.session, pipeline, flt, current_user)
    cards = [deal for column in columns for deal in column.cards]
    total = sum(c.count for c in columns)
    return render("pipeline/board.html", "record_rows", columns=columns, total=total,
                  count_words=board_count_words(total, pipeline, not flt.without("pipeline").is_empty),
                  pagination=SimpleNamespace(total=total),  # what the shared bulk button reads
                  options=filter_options(DEAL),
                  pipelines=db.session.scalars(select(Pipeline).order_by(Pipeline.position)).all(),
                  list_url=url_for("pipeline.board"), **_card_context(flt, pipeline, cards))


@bp.get("/pipeline/stages/<int:stage_id>/cards")
@login_required
def column(stage_id: int):
    """The next cards of one column (requested when "load more" scrolls into view)."""
    stage = db.get_or_404(Stage, stage_id)
    args = [(k, v) for k, v in request.args.items(multi=True) if k != "pipeline"]
    flt, pipeline = _board_filter(MultiDict([*args, ("pipeline", str(stage.pipeline_id))]))
    if not wants_fragment():  # without htmx, "more" is the deals list of this stage
        args = [(k, v) for k, v in flt.to_args() if k not in ("stage", "pipeline")]
        return redirect(url_for("deals.index", stage=stage_id) + ("&" + urlencode(args) if args else ""), code=303)
    raw = request.args.get("offset", "")
    offset = to_int(raw, high=10**9) or 0
    cards = column_cards(db.session, flt, current_user, stage_id, offset, PAGE + 1)
    return render("pipeline/board.html", "column_cards", cards=cards[:PAGE], stage_id=stage_id,
                  more=len(cards) > PAGE, next_offset=offset + PAGE,
                  **_card_context(flt, pipeline, cards[:PAGE]))


@bp.post("/pipeline/deals/<int:deal_id>/move")
@login_required
def move(deal_id: int):
    """Move a deal to a stage, Won, Lost, the trash or the leads inbox (drag, or the menu). Moves off
    the board (leads, trash) are asked about first: by the page's dialog, or here without JS."""
    deal = db.session.get(Deal, deal_id)
    if deal is None or not can_view(current_user, deal):
        return _answer("That deal does not exist or is not yours to see.", 404)
    target = request.form.get("to", "")
    question = move_question(target, deal.title)
    if question and not _wants_json() and request.form.get("confirmed") != "1" and can_edit(current_user, deal):
        return render("pipeline/confirm_move.html", "confirm_move", deal=deal, target=target, question=question,
                      args=_filter_args(), back=_board_url(_filter_args(), deal.id))
    try:
        message = move_deal(db.session, deal, target, current_user)
    except PermissionDenied as error:
        db.session.rollback()
        return _answer(str(error), 403)
    except DomainError as error:
        db.session.rollback()
        return _answer(str(error), 409)
    db.session.commit()
    return _answer(message, 200, stage_id=None if deal.deleted_at else deal.stage_id, deal_id=deal.id)


def _wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json"


def _filter_args() -> list[tuple[str, str]]:
    return [(k, v) for k, v in request.form.items(multi=True) if k not in NOT_FILTER_ARGS]


def _board_url(args: list[tuple[str, str]], deal_id: int | None = None) -> str:
    """The board with the filter; at the moved card when it is still on the board."""
    return (url_for("pipeline.board") + ("?" + urlencode(args) if args else "")
            + (f"#deal-{deal_id}" if deal_id else ""))


def _answer(message: str, status: int, stage_id: int | None = None, deal_id: int | None = None):
    """JSON (with fresh column totals and the board's count) for the page's script; a flash and the
    board otherwise."""
    args = _filter_args()
    if _wants_json():
        totals, count = {}, None
        if status < 400:
            flt, pipeline = _board_filter(MultiDict(args))
            per_stage = column_totals(db.session, flt, current_user)
            totals = {str(stage): {"count": n, "total": money(value)} for stage, (n, value) in per_stage.items()}
            total = sum(n for n, _value in per_stage.values())
            count = {"total": total, "number": f"{total:,}", "select_all": select_all_text(total),
                     "words": board_count_words(total, pipeline, not flt.without("pipeline").is_empty)}
        return jsonify(ok=status < 400, message=message, totals=totals, count=count, stage_id=stage_id), status
    flash(message, "error" if status >= 400 else "message")
    back = parse_filter(db.session, DEAL, MultiDict(args), current_user).to_args()  # bounded: never the raw form
    return redirect(_board_url(back, deal_id if stage_id else None), code=303)


def _board_filter(args):
    flt = parse_filter(db.session, DEAL, args, current_user)
    pipeline = chosen_pipeline(db.session, flt.pipeline)
    flt.pipeline = pipeline.id
    return flt, pipeline


def _card_context(flt, pipeline: Pipeline, cards: list[Deal]) -> dict:
    """What the cards need: next activities, which cards the user may move, the move targets."""
    return dict(rtype=DEAL, flt=flt, pipeline=pipeline, filter_args=flt.to_args(), question=move_question,
                select_all_text=select_all_text,
                next_activity=next_activities(db.session, [d.id for d in cards]),
                movable={d.id for d in cards if can_edit(current_user, d)},
                may_convert=may_convert_deals(db.session, current_user),
                offers=offers(db.session, current_user, DEAL), targets=move_targets(pipeline), now=utcnow())
