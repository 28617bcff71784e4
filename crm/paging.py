"""One reading of ?page=N for every paginated page: what a page number means, and what happens
to a page past the end (the last page, with a notice saying so)."""
from flask import request
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import Select

from crm.counts import CachedCountPagination
from crm.extensions import db
from crm.params import to_int

# Beyond this the OFFSET would not fit a 64-bit integer; such a page is past the end anyway.
MAX_PAGE = 10**9


def requested_page(raw: str | None) -> int:
    """The page asked for: a whole number from 1; anything else (text, 0, negatives) is page 1."""
    return to_int(raw, low=1, high=10**100, max_digits=100) or 1


def shown_page(page: int, pages: int) -> tuple[int, str | None]:
    """The page to show for the page asked for, and a notice when that is not the same page."""
    last = max(pages, 1)
    if page <= last:
        return page, None
    return last, f"Page {page} does not exist; showing page {last}."


def paginate(stmt: Select, per_page: int, raw: str | None = None) -> tuple[Pagination, str | None]:
    """`db.paginate` of the page in the URL (or `raw`); past the end, the last page and a notice."""
    page = requested_page(request.args.get("page") if raw is None else raw)
    pagination = _paginate(stmt, min(page, MAX_PAGE), per_page)
    shown, notice = shown_page(page, pagination.pages)
    if shown != pagination.page:
        pagination = _paginate(stmt, shown, per_page)
    return pagination, notice


def _paginate(stmt: Select, page: int, per_page: int) -> Pagination:
    """`db.paginate`, with the total from the shared count cache (crm/counts.py)."""
    return CachedCountPagination(select=stmt, session=db.session(), page=page, per_page=per_page,
                                 max_per_page=None, error_out=False)
