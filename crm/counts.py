"""Exact list totals, counted once per filter and shared by every worker through Redis (REDIS_URL).

A total is stored under the exact count query (SQL and parameters, so the viewer's permissions are
part of it) and the id of the newest history event: every change writes one, so a change anywhere
starts a new count and a shown total is never older than the data. Without Redis, every request
counts (SQLite boxes are small). Totals of changes that write no history (purging the trash) age
out after COUNT_TTL.
"""
import hashlib

import redis
from flask import current_app
from flask_sqlalchemy.pagination import SelectPagination
from sqlalchemy import func, select
from sqlalchemy.orm import Session, lazyload

from crm.models import HistoryEvent

COUNT_TTL = 600  # seconds


DEEP_OFFSET = 1000  # from here on, a page's ids are found first (see _query_items)


class CachedCountPagination(SelectPagination):
    """`db.paginate`'s pagination with its total read from, or written to, the shared count cache,
    and deep pages read by their ids first."""

    def _query_items(self) -> list:
        """Deep pages: the page's ids first (the sort's index alone can skip the rows before it,
        without reading them), then only those rows, in the same order."""
        stmt = self._query_args["select"]
        entity = stmt.column_descriptions[0].get("entity")
        if self._query_offset < DEEP_OFFSET or entity is None or len(stmt.column_descriptions) != 1:
            return super()._query_items()
        session: Session = self._query_args["session"]
        ids = session.scalars(stmt.with_only_columns(entity.id).limit(self.per_page)
                              .offset(self._query_offset)).all()
        if not ids:
            return []
        return list(session.execute(stmt.where(entity.id.in_(ids))).unique().scalars())

    def _query_count(self) -> int:
        session: Session = self._query_args["session"]
        stmt = select(func.count()).select_from(
            self._query_args["select"].options(lazyload("*")).order_by(None).subquery())
        client = _client()
        if client is None:
            return session.scalar(stmt)
        key = _key(session, stmt)
        cached = client.get(key)
        if cached is not None:
            return int(cached)
        total = session.scalar(stmt)
        client.set(key, total, ex=COUNT_TTL)
        return total


def _key(session: Session, stmt) -> str:
    compiled = stmt.compile(session.get_bind())
    version = session.scalar(select(func.max(HistoryEvent.id)))
    raw = f"{session.get_bind().url}|{compiled}|{sorted(compiled.params.items(), key=str)}|{version}"
    return f"crm-count:{hashlib.sha1(raw.encode()).hexdigest()}"


def _client() -> redis.Redis | None:
    """One connection pool per app (and process), for REDIS_URL; None without Redis."""
    url = current_app.config.get("REDIS_URL")
    if not url:
        return None
    return current_app.extensions.setdefault("crm_count_cache", redis.Redis.from_url(url))
