"""Reading the mass change request: which records (the selection) and what to do (the action).

Selection arguments (GET or POST, as the list, the kanban and the map send them):
  type        lead | deal | contact | organization
  <filter>    the filter arguments of crm/services/filters.py (owner, status, stage, territory, q, ...)
  ids         ticked record ids, repeated or comma-separated
  all=1       every record matching the filter (ids are then ignored)
  skip_owner  owners whose records are left out (a user id, or "none" for records without owner)
Action arguments (POST /bulk/apply): action (reassign|change|delete), confirm (the typed word),
count (the number of records the user saw), pinned (the fingerprint of the set they saw), new_owner ("user:3", "pool:2"), new_stage (stage or
lead status id), undo_changed.
"""
from dataclasses import dataclass, field

from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict

from crm.i18n import _
from crm.models import User
from crm.params import to_id, to_int
from crm.services.bulk import WORDS, Selection, confirmed
from crm.services.filters import MultiArgs, parse_filter
from crm.services.record_types import RECORD_TYPES


class BadSelection(ValueError):
    """The request names no record type we know."""


def read_selection(session: Session, args: MultiArgs, viewer: User) -> Selection:
    rtype = RECORD_TYPES.get((args.getlist("type") or [""])[0])
    if rtype is None:
        raise BadSelection("Say which records to change: type must be lead, deal, contact or organization.")
    select_all = "1" in args.getlist("all")
    filter_args = MultiDict([(k, v) for k in args.keys() for v in args.getlist(k)
                             if not (select_all and k == "ids")])
    flt = parse_filter(session, rtype, filter_args, viewer)
    if flt.trash:
        flt.errors.append("Mass change works on records outside the trash; restore them from the Trash page first.")
    return Selection.build(rtype, flt, viewer, select_all=select_all,
                           skip_owners=frozenset(_owner_ids(args.getlist("skip_owner"))))


def _owner_ids(values: list[str]) -> list[int]:
    out = []
    for raw in (v.strip() for value in values for v in value.split(",")):
        if raw == "none":
            out.append(0)
        elif (owner_id := to_id(raw)) is not None:
            out.append(owner_id)
    return out


def selection_args(sel: Selection) -> list[tuple[str, str]]:
    """The selection as form fields, so the drawer's forms send back exactly the set it shows."""
    args = [("type", sel.rtype.name), *sel.flt.to_args()]
    if sel.ids is None:
        args.append(("all", "1"))
    else:
        args.append(("ids", ",".join(map(str, sel.ids))))
    args += [("skip_owner", str(o) if o else "none") for o in sorted(sel.skip_owners)]
    return args


@dataclass
class ActionRequest:
    action: str = ""
    confirm: str = ""
    count: int | None = None
    pinned: str = ""  # the set's fingerprint the drawer showed
    new_owner: str = ""
    new_stage: int | None = None
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def word(self) -> str:
        return str(WORDS.get(self.action, ""))  # in the user's language


def read_action(form: MultiArgs) -> ActionRequest:
    def first(key: str) -> str:
        return (form.getlist(key) or [""])[0].strip()

    req = ActionRequest(action=first("action"), confirm=first("confirm"), new_owner=first("new_owner"),
                        pinned=first("pinned")[:80])
    count, stage = first("count"), first("new_stage")
    req.count = to_int(count)
    req.new_stage = to_id(stage)
    if req.action not in WORDS:
        req.errors["action"] = _("Choose Reassign, Change stage or Delete records.")
    elif not confirmed(req.action, req.confirm):
        req.errors["confirm"] = (
            _("Type %(word)s to confirm (you typed “%(typed)s”). Nothing was changed.", word=req.word,
              typed=req.confirm) if req.confirm else
            _("Type %(word)s to confirm. Nothing was changed.", word=req.word))
    if req.action == "reassign" and not req.new_owner:
        req.errors["new_owner"] = _("Choose the new owner.")
    if req.action == "change" and req.new_stage is None:
        req.errors["new_stage"] = _("Choose the new stage or status.")
    return req
