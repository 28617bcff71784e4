"""Inserting many rows fast: COPY on PostgreSQL, one DB-API executemany on SQLite.

An import's chunk of new records and their history go in here (#18: an import within 3× a bare
INSERT of the same rows). Ids are reserved first (PostgreSQL: from the table's sequence; SQLite:
above the largest id, under the write lock the run holds), so no RETURNING is needed and the
history rows can name their records.
"""
import json
from collections.abc import Sequence

from sqlalchemy import JSON, Table, func, select, text
from sqlalchemy.orm import Session


def reserve_ids(session: Session, table: Table, count: int) -> list[int]:
    """`count` new ids for `table`, nobody else's (the caller inserts them in this transaction)."""
    if not count:
        return []
    if session.get_bind().dialect.name == "postgresql":
        sequence = text("SELECT nextval(pg_get_serial_sequence(:table, 'id')) FROM generate_series(1, :n)")
        return sorted(session.scalars(sequence, {"table": f'"{table.name}"', "n": count}))
    # SQLite hands out the largest id + 1 itself; the run holds the one write lock (begin_write).
    start = session.scalar(select(func.coalesce(func.max(table.c.id), 0)))
    return list(range(start + 1, start + count + 1))


def insert_rows(session: Session, table: Table, rows: Sequence[dict]) -> None:
    """INSERT every row; a column a row leaves out gets the column's default, as in an ORM insert."""
    if not rows:
        return
    keys = {key for row in rows for key in row}
    columns = [c for c in table.columns if c.name in keys or (c.default is not None and not c.primary_key)]
    defaults = {c.name: _default(c) for c in columns}  # a row may leave out a column others set
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        _copy(connection, table, columns, defaults, rows)
        return
    processors = [c.type.bind_processor(connection.dialect) for c in columns]
    values = [tuple(p(v) if p else v for p, v in zip(processors, _values(columns, defaults, row))) for row in rows]
    names = ", ".join(f'"{c.name}"' for c in columns)
    connection.exec_driver_sql(f'INSERT INTO "{table.name}" ({names}) VALUES ({", ".join("?" * len(columns))})',
                               values)


def _copy(connection, table: Table, columns: list, defaults: dict, rows: Sequence[dict]) -> None:
    json_columns = {i for i, c in enumerate(columns) if isinstance(c.type, JSON)}
    names = ", ".join(f'"{c.name}"' for c in columns)
    cursor = connection.connection.driver_connection.cursor()
    with cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
        for row in rows:
            values = _values(columns, defaults, row)
            copy.write_row([json.dumps(v) if i in json_columns and v is not None else v
                            for i, v in enumerate(values)])
    cursor.close()


def _values(columns: list, defaults: dict, row: dict) -> list:
    return [row[c.name] if c.name in row else defaults[c.name] for c in columns]


def _default(column):
    """A column's Python-side default (a value, or what its function returns now); None if it has none."""
    default = column.default
    if default is None:
        return None
    return default.arg(None) if default.is_callable else default.arg
