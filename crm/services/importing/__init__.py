"""CSV import, the one entry point: read the file, map its columns, then a dry run or the real run.

- `reading`: the file's encoding, delimiter, header and rows, streamed (constant memory).
- `mapping`: which column goes to which field of the field registry (its aliases, remembered choices).
- `values`: one row's cells checked and converted by the registry's parsers, and the owner a cell names.
- `run`: every row classified (create / update / skip / reject with a reason) the same way in
  both modes; only the real run then writes each chunk (`writing`) inside one batch, so a dry run
  reports exactly what the run will do. Rejected rows go to a CSV with an `error` column, every
  cell neutralized against formula injection (`crm.services.csv_cells`).
"""
from crm.services.importing.mapping import (
    clean_mapping, field_choices, guess_mapping, header_key, importable, normalize_header, remember_mapping,
)
from crm.services.importing.reading import FileFormat, detect, xlsx_to_csv
from crm.services.importing.run import DUPLICATE_POLICIES, run_import
from crm.services.importing.writing import undo_change

__all__ = ["DUPLICATE_POLICIES", "FileFormat", "clean_mapping", "detect", "field_choices", "guess_mapping",
           "header_key", "importable", "normalize_header", "remember_mapping", "run_import", "undo_change",
           "xlsx_to_csv"]
