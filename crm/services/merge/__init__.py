"""THE merge of 2 to 5 leads, deals, contacts or organizations into one survivor, and its undo.

`merge_records` (run.py) runs named steps, like Odoo's lead merge:

1. `_guard`: 2 to 5 distinct existing records, not in the trash, all editable by the actor.
2. `_rank`: the default survivor is the first by `survivor_key`: a deal before a lead, then the
   record created first (Odoo: the oldest gets priority and everything is merged into it).
3. Fields: per row of the panel (`rows`, derived from the field registry), the field's strategy
   (pick one record's value, unite the tags, concatenate descriptions) applied to the user's
   choices; `default_choices` follow the kept record (its value where it has one, else the
   newest non-empty value). Every value that loses is written on the survivor's timeline.
4. `moves.move_children`: activities, notes, emails and links (deals, contacts, leads pointing
   at a merged record) move to the survivor with one set-based UPDATE per link column; each
   moved row is remembered in MergeMove (INSERT ... SELECT) so that Undo merge can move it back.
5. `_retire`: the others go to the trash, marked "merged into #id" (MergeLink; leads also get
   `merged_into_id`).
6. `_log`: one batch (one feed entry) and a "merge" history event on every record.

`undo_merge` (undo.py) brings the merged records back; fields of the survivor changed since the
merge are listed by `undo_plan` and kept unless the user reverts them.

Everything happens in the caller's transaction: the caller commits once, or rolls back.
Issue 5's "Merge with existing" calls `merge_records`; the panel is `merge.panel`
(`/leads/merge?ids=1,2`, same for /contacts/ and /organizations/).
"""
from crm.services.merge.rows import (
    CONCAT, PICK, UNITE, MergeField, default_choices, field_value, fields_for, is_empty, row_text, survivor_key,
)
from crm.services.merge.run import KEEP, MAX_RECORDS, MIN_RECORDS, MergeResult, allowed_teams, merge_records, ranked
from crm.services.merge.undo import LaterChange, NoSuchMerge, UndoPlan, undo_merge, undo_plan

__all__ = [
    "CONCAT", "KEEP", "MAX_RECORDS", "MIN_RECORDS", "PICK", "UNITE", "LaterChange", "MergeField", "MergeResult",
    "NoSuchMerge", "UndoPlan", "allowed_teams", "default_choices", "field_value", "fields_for", "is_empty",
    "merge_records", "ranked", "row_text", "survivor_key", "undo_merge", "undo_plan",
]
