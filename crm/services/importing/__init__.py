"""CSV import, the one entry point: read the file, map its columns, then a dry run or the real run.

- `reading`: the file's encoding, delimiter, header and rows, streamed (constant memory).
- `mapping`: which column goes to which field of the field registry (its aliases, remembered choices).
- `choices`: the value-mapping step: what each unknown status, stage, source or owner in the file
  becomes (an existing value, a new one, or the default), remembered for the same headers.
- `values`: one row's cells checked and converted by the registry's parsers.
- `classify`: every row's fate (create / update / skip / reject with a reason), the same in both
  modes: owners through the owner service, matches only among records the importer may see.
- `run`: the pass over the file; only the real run then writes each chunk (`writing`) inside one
  batch, so a dry run reports exactly what the run will do. A real run commits chunk by chunk
  with its report, so one that stopped can be resumed and its batch holds what it wrote.
  Rejected rows go to a CSV with an `error` column, every cell neutralized against formula
  injection (`crm.services.csv_cells`).
"""
from crm.services.importing.choices import posted_choices, prepare as prepare_values, value_choices
from crm.services.importing.mapping import (
    clean_mapping, field_choices, guess_mapping, header_key, importable, normalize_header, remember_mapping,
    remembered_values,
)
from crm.services.importing.reading import FileFormat, detect, xlsx_to_csv
from crm.services.importing.run import DUPLICATE_POLICIES, may_resume, run_import, stopped
from crm.services.importing.writing import undo_change

__all__ = ["DUPLICATE_POLICIES", "FileFormat", "clean_mapping", "detect", "field_choices", "guess_mapping",
           "header_key", "importable", "may_resume", "normalize_header", "posted_choices", "prepare_values",
           "remember_mapping", "remembered_values", "run_import", "stopped", "undo_change", "value_choices",
           "xlsx_to_csv"]
