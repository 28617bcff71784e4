"""schemathesis against /api/v1 with the app's own OpenAPI document and a token: no server error,
no response outside the document (bounded: a few examples per operation, under two minutes)."""
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance, response_schema_conformance, status_code_conformance,
)
from sqlalchemy import func, select

from crm.extensions import db
from crm.models import Lead
from crm.services.api_tokens import issue_token
from tests.conftest import user

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
EXAMPLES = 8


def operations(app):
    """Every operation of the document the app serves, called through WSGI."""
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    return [result.ok() for result in schema.get_all_operations()]


def test_every_operation_keeps_its_contract(app):
    token = issue_token(db.session, user("admin@example.com"), "schemathesis")
    db.session.commit()
    headers = {"Authorization": f"Bearer {token}"}
    found = operations(app)
    leads = db.session.scalar(select(func.count(Lead.id)))
    assert len(found) > 30
    failures = []
    for operation in found:
        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def check(case):
            case.call_and_validate(headers=headers, checks=CHECKS)
        try:
            check()
        except Exception as error:  # every operation is tried; all failures are reported together
            failures.append(f"{operation.verbose_name}: {error}")
    assert not failures, "\n\n".join(failures)
    db.session.expire_all()
    assert db.session.scalar(select(func.count(Lead.id))) > leads  # generated bodies got through, not only refusals
