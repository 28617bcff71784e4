"""Steps shared by the import tests: upload a file, run it (dry or real), read the report."""
import io

from sqlalchemy import select

from crm.extensions import db
from crm.models import Pool, PoolMember, User
from crm.models.pools import ImportJob


def uid(email: str) -> int:
    return db.session.scalar(select(User.id).where(User.email == email))


def make_pool(name: str = "Inbound EU", *emails: str) -> Pool:
    """A lead pool with these members in order (default: rep1, rep2 of team North)."""
    emails = emails or ("rep1@example.com", "rep2@example.com")
    pool = Pool(name=name, record_type="lead",
                members=[PoolMember(user_id=uid(e), position=i) for i, e in enumerate(emails)])
    db.session.add(pool)
    db.session.commit()
    return pool


def upload(client, text: str | bytes, name="leads.csv", record_type="lead") -> ImportJob:
    data = text.encode() if isinstance(text, str) else text
    response = client.post("/import/", data={"record_type": record_type, "file": (io.BytesIO(data), name)},
                           content_type="multipart/form-data")
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    return db.session.get(ImportJob, response.location.rsplit("/", 1)[-1])


def run(client, imp, mode="run", unknown: str | None = "reject", **form) -> dict:
    """Post the import page's form (the mapping as guessed unless given); the report afterwards.

    Values of choice columns the page lists and `form` does not choose for: `unknown` (rows with an
    unknown status, stage or owner are rejected, as before the value step; a new source is kept);
    None sends no choices (what was chosen or remembered before stands).
    """
    db.session.refresh(imp)
    mapping = {f"col_{i}": v for i, v in imp.mapping.items()}
    listed = {f"value_{name}_{n}": "new" if name == "source" else unknown
              for name, values in (imp.unknown_values or {}).items() for n in range(len(values)) if unknown is not None}
    response = client.post(f"/import/{imp.id}", data=mapping | listed | {"mode": mode, "duplicates": "skip"} | form)
    assert response.status_code == 303, response.get_data(as_text=True)[:800]
    db.session.expire_all()
    return db.session.get(ImportJob, imp.id).report
