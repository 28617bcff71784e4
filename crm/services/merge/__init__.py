"""THE merge of 2 to 5 leads, deals, contacts or organizations into one survivor, and its undo.

`merge_records` runs named steps, like Odoo's lead merge:

1. `_guard`: 2 to 5 distinct existing records, not in the trash, all editable by the actor.
2. `_rank`: the default survivor is the first by `survivor_key` (not lost > converted or
   won > later stage/status > oldest).
3. `_merge_fields`: per row of the panel (`rows`, derived from the field registry), the field's
   strategy (pick one record's value, unite the tags, concatenate descriptions) applied to the
   user's choices; defaults come from `default_choices`.
4. `_move_children`: activities, notes, emails and links (deals, contacts, leads pointing at a
   merged record) move to the survivor with one set-based UPDATE per link column; each moved
   row is remembered in MergeMove (INSERT ... SELECT) so that Undo merge can move it back.
5. `_retire`: the others go to the trash, marked "merged into #id" (MergeLink; leads also get
   `merged_into_id`).
6. `_log`: one batch (one feed entry) and a "merge" history event on every record.

Everything happens in the caller's transaction: the caller commits once, or rolls back.
Issue 5's "Merge with existing" calls `merge_records`; the panel is `merge.panel`
(`/leads/merge?ids=1,2`, same for /contacts/ and /organizations/).
"""
from crm.services.merge.rows import (
    CONCAT, PICK, UNITE, MergeField, default_choices, field_value, fields_for, is_empty, survivor_key,
)
from crm.services.merge.run import (
    KEEP, MAX_RECORDS, MIN_RECORDS, MergeResult, allowed_teams, merge_records, ranked, undo_merge,
)

__all__ = [
    "CONCAT", "KEEP", "MAX_RECORDS", "MIN_RECORDS", "PICK", "UNITE", "MergeField", "MergeResult",
    "allowed_teams", "default_choices", "field_value", "fields_for", "is_empty", "merge_records", "ranked",
    "survivor_key", "undo_merge",
]
