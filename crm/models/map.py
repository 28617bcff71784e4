"""Indexes for the map's viewport and lasso queries: live records by latitude band, then longitude.

(deleted_at, lat, lng) covers `deleted_at IS NULL AND lat BETWEEN .. AND lng BETWEEN ..`, so a
zoomed-in view or a small lasso reads a slice of the index instead of the whole table.
"""
from sqlalchemy import Index

from crm.models.records import Contact, Deal, Lead

MAP_INDEXES = [Index(f"ix_{model.__tablename__}_map", model.deleted_at, model.lat, model.lng)
               for model in (Lead, Deal, Contact)]
