"""Issue 11 item 10: every kind of response carries the security headers (pages, fragments,
errors, JSON, static files), so no page can be framed, sniffed or run inline script."""
import pytest

HTMX = {"HX-Request": "true"}


@pytest.mark.parametrize("path, headers, logged_in", [
    ("/login", {}, False),
    ("/leads/", {}, True),
    ("/leads/", HTMX, True),
    ("/leads/99999", {}, True),
    ("/api/v1/openapi.json", {}, False),
    ("/static/js/app.js", {}, False),
])
def test_every_kind_of_response_carries_the_security_headers(client, auth, path, headers, logged_in):
    if logged_in:
        auth.login()
    response = client.get(path, headers=headers)
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "default-src 'self'" in policy and "'unsafe-inline'" not in policy
    assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy and "base-uri 'none'" in policy
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert "Strict-Transport-Security" not in response.headers  # only with COOKIE_SECURE (tests/test_auth.py)
