"""Territories: named areas with an owner. Which territory a record lies in, kept up to date.

A record's territory is the smallest territory that contains its coordinates (an STRtree finds
the candidates). A record that enters a territory whose owner auto-assigns gets that owner
(and the owner's team). Deleting a territory leaves its records where they are; each goes to the
smallest territory still around it, if any (recomputed as on a redraw).
Editing one is recorded like creating it: a redrawn outline moves records in and out, and an
auto-assigning territory that gets a new owner hands every record in it to that owner.

`index`: which territory a point lies in (and one record's or an import's territory);
`recompute`: moving the records a change affects, through the bulk engine (history, one batch);
`manage`: what admins do with territories; `demo`: the demo territories.
"""
from crm.services.territories.demo import DEMO_TERRITORIES, seed_demo_territories
from crm.services.territories.index import (
    INDEX_KEY, TerritoryIndex, build_index, territory_values, with_territories,
)
from crm.services.territories.manage import (
    Deleted, Edited, create_territory, delete_territory, require_admin, territory_size, update_territory,
)
from crm.services.territories.recompute import Recomputed, recompute_territories

__all__ = [
    "DEMO_TERRITORIES", "INDEX_KEY", "Deleted", "Edited", "Recomputed", "TerritoryIndex", "build_index",
    "create_territory", "delete_territory", "recompute_territories", "require_admin", "seed_demo_territories",
    "territory_size", "territory_values", "update_territory", "with_territories",
]
