"""Reading an uploaded file: its text encoding, delimiter, header and rows, streamed."""
import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from charset_normalizer import from_bytes

from crm.i18n import _l
from crm.services import DomainError

SAMPLE = 256 * 1024
PREFERRED_ENCODINGS = ("cp1252", "latin_1", "iso8859_15")
WESTERN_ENCODINGS = ("cp1252", "latin_1")
# UTF-32 first: its little-endian BOM begins with UTF-16's.
BOMS = ((b"\xef\xbb\xbf", "utf_8_sig"), (b"\xff\xfe\x00\x00", "utf_32"), (b"\x00\x00\xfe\xff", "utf_32"),
        (b"\xff\xfe", "utf_16"), (b"\xfe\xff", "utf_16"))
CJK_ENCODINGS = {"big5", "big5hkscs", "cp932", "cp949", "cp950", "euc_jis_2004", "euc_jisx0213", "euc_jp",
                 "euc_kr", "gb18030", "gb2312", "gbk", "hz", "johab", "shift_jis", "shift_jis_2004",
                 "shift_jisx0213", "iso2022_jp", "iso2022_kr", "tis_620"}


@dataclass
class FileFormat:
    """What `detect` found: how to read the file, its column names, data rows and widest row."""

    encoding: str
    delimiter: str
    headers: list[str]
    rows: int
    width: int = 0


def detect(path: Path) -> FileFormat:
    """Encoding (charset-normalizer), delimiter (csv.Sniffer), headers, the row count and widest row."""
    with open(path, "rb") as f:
        raw = f.read(SAMPLE)
    if not raw.strip():
        raise DomainError(_l("The file is empty."))
    encoding = _encoding(raw)
    sample = raw.decode(encoding, errors="replace")
    try:
        delimiter = csv.Sniffer().sniff("\n".join(sample.splitlines()[:50]), delimiters=",;\t|").delimiter
    except csv.Error:
        delimiter = ","
    reader = csv.reader(io.StringIO(sample), delimiter=delimiter)
    headers = [h.strip() for h in next(reader, [])]
    if not any(headers):
        raise DomainError(_l("The first line should name the columns, but it is empty."))
    fmt = FileFormat(encoding, delimiter, headers, 0, len(headers))
    for row in rows(path, fmt):
        if row:
            fmt.rows += 1
            fmt.width = max(fmt.width, len(row))
    return fmt


def rows(path: Path, fmt) -> Iterator[list[str]]:
    """Data rows (after the header), streamed; `fmt` is a FileFormat or an ImportJob."""
    with open(path, encoding=fmt.encoding, errors="replace", newline="") as f:
        reader = csv.reader(f, delimiter=fmt.delimiter)
        next(reader, None)
        yield from reader


def xlsx_to_csv(source: Path, target: Path) -> None:
    """The first sheet of an Excel workbook as a UTF-8 CSV, row by row (read-only mode streams)."""
    from openpyxl import load_workbook

    try:
        book = load_workbook(source, read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises several types for a broken or foreign file
        raise DomainError(_l("This is not an Excel workbook that can be read (.xlsx).")) from error
    with open(target, "w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        for row in book.worksheets[0].iter_rows(values_only=True):
            out.writerow(["" if v is None else str(v) for v in row])
    book.close()


def _encoding(raw: bytes) -> str:
    """The sample's text encoding: a BOM, else UTF-8, else a Western Windows export unless the
    detector names a code page people really save CSV files in."""
    for bom, encoding in BOMS:
        if raw.startswith(bom):
            return encoding
    if b"\x00" in raw[:4096]:
        raise DomainError(_l("This does not look like a CSV text file."))
    if _is_utf8(raw):
        return "utf_8"
    matches = list(from_bytes(raw))
    if not matches:
        raise DomainError(_l("The file's text encoding could not be recognised; save it as UTF-8 CSV."))
    best = matches[0]
    if not _is_common(best.encoding):
        # A short Latin-1 file reads "cleanly" as cp775 or a DOS code page too; Excel on
        # Western Windows writes cp1252, so that is the far likelier reading.
        return next((e for e in WESTERN_ENCODINGS if _decodes(raw, e)), best.encoding)
    # Among equally clean readings, prefer the encodings CRM exports really use (cp1250 and
    # cp1252 read most Western text equally well).
    tied = {m.encoding for m in matches if m.chaos <= best.chaos + 0.005}
    return next((e for e in PREFERRED_ENCODINGS if e in tied), best.encoding)


def _is_utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf_8")
    except UnicodeDecodeError as error:
        # The sample may end inside a multi-byte character.
        return error.reason == "unexpected end of data" and error.start >= len(raw) - 3
    return True


def _decodes(raw: bytes, encoding: str) -> bool:
    try:
        raw.decode(encoding)
    except UnicodeDecodeError:
        return False
    return True


def _is_common(encoding: str) -> bool:
    """Windows ANSI, ISO 8859, KOI8 and the CJK encodings: what CSV files are saved in; DOS, Mac
    and EBCDIC code pages are not."""
    return encoding.startswith(("cp125", "iso8859_", "koi8_")) or encoding in CJK_ENCODINGS
