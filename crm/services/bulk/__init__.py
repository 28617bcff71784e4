"""Mass change: reassign, change stage/status or delete a whole set of records at once.

`selection` is the set and the drawer's preview of it, `actions` the three mass changes, `engine`
the set-based execution they share with undo, restore, purge, import undo and status removal:
one transaction, history on every record, one batch (one feed entry).
"""
from crm.services.bulk.actions import WORDS, apply_action, confirmed, change_stage, delete, reassign
from crm.services.bulk.engine import (
    PICK, Change, Outcome, StaleSelection, begin_write, pick, run, run_steps,
)
from crm.services.bulk.selection import OwnerRow, Preview, Selection, ignored_ids, preview
from crm.services.wording import count_phrase

__all__ = [
    "PICK", "WORDS", "Change", "Outcome", "OwnerRow", "Preview", "Selection", "StaleSelection",
    "apply_action", "begin_write", "change_stage", "count_phrase", "delete", "ignored_ids", "pick", "preview",
    "confirmed", "reassign", "run", "run_steps",
]
