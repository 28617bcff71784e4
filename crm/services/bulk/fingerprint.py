"""A fingerprint of a set of record ids: the count and a hash of the sorted ids.

The drawer shows it with the count; the confirmation sends it back and the engine compares it with
the set it froze, so a mass change touches exactly the records the user saw (when one record left
the set and another joined it, the count alone would not tell). The ids stream from the database
in chunks, so memory stays constant for any size of set.
"""
import hashlib
from array import array

from sqlalchemy import select
from sqlalchemy.orm import Session

CHUNK = 50_000


def set_fingerprint(session: Session, id_column, *where) -> str:
    """"<count>-<hash>" of the ids `id_column` takes in the rows matching `where`."""
    digest, count = hashlib.blake2b(digest_size=16), 0
    stmt = select(id_column).where(*where).order_by(id_column).execution_options(yield_per=CHUNK)
    for chunk in session.execute(stmt).scalars().partitions():
        digest.update(array("q", chunk).tobytes())
        count += len(chunk)
    return f"{count}-{digest.hexdigest()}"
