"""Export a filtered list (or a selection) as CSV or XLSX with the columns the importer reads.

Headers are the field labels where the importer maps a label back to the same field (or does not
read the field), else the field names; values are text as the importer parses them (names for statuses, stages and owners,
ISO dates). Cells that a spreadsheet could run as formulas are neutralized (crm/services/csv_cells.py).
Rows stream from the database in chunks: memory stays flat for any size of list.
"""
import csv
import io
import re
import tempfile
from collections.abc import Iterator

from openpyxl import Workbook
from sqlalchemy import Select
from sqlalchemy.orm import Session, selectinload

from crm.services.csv_cells import neutralize_cell
from crm.services.field_values import text_value
from crm.services.fields import Field, alias_index, exportable_fields, importable_fields, normalize
from crm.services.record_types import RecordType

CHUNK = 1000
PLAIN_NUMBER = re.compile(r"^-?\d+(\.\d+)?\Z")


def columns(session: Session, rtype: RecordType) -> list[tuple[str, Field]]:
    """(header, field) of every exported column, in form order."""
    index = alias_index(importable_fields(session, rtype))
    out = []
    for f in exportable_fields(session, rtype):
        label = str(f.label)
        readable = not f.importable or index.get(normalize(label)) == f.name
        out.append((label if readable else f.name, f))
    return out


def rows(session: Session, rtype: RecordType, stmt: Select) -> Iterator[list[str]]:
    """The header row, then one row of neutralized text per record of `stmt`."""
    cols = columns(session, rtype)
    yield [neutralize_cell(header) for header, _f in cols]
    relations = {f.relation for _h, f in cols if f.relation}
    stmt = stmt.options(*(selectinload(getattr(rtype.model, r)) for r in sorted(relations)))
    for chunk in session.scalars(stmt.execution_options(yield_per=CHUNK)).partitions():
        for record in chunk:
            yield [_cell(text_value(f, record)) for _h, f in cols]


def _cell(text: str) -> str:
    """A plain number (a negative longitude) stays a number; anything else is neutralized."""
    return text if PLAIN_NUMBER.match(text) else neutralize_cell(text)


def csv_chunks(lines: Iterator[list[str]]) -> Iterator[str]:
    """CSV text in pieces of about CHUNK rows (UTF-8 with a BOM, so spreadsheets read accents)."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer)
    for n, line in enumerate(lines, 1):
        writer.writerow(line)
        if n % CHUNK == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def xlsx_file(lines: Iterator[list[str]], title: str) -> tempfile.SpooledTemporaryFile:
    """An XLSX workbook written row by row (openpyxl's write-only mode), as a file to send."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title[:31])
    for line in lines:
        sheet.append(line)
    out = tempfile.SpooledTemporaryFile(max_size=16 * 1024 * 1024)
    book.save(out)
    out.seek(0)
    return out
