"""Shared steps for the browser tests."""
from urllib.parse import urlsplit

from sqlalchemy import select

from crm.extensions import db
from crm.models import User


def login(page, server: str, email: str = "admin@example.com", password: str = "demo") -> None:
    page.goto(f"{server}/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(lambda url: "/login" not in url)


def user_id(email: str) -> int:
    return db.session.scalar(select(User.id).where(User.email == email))


def only_this_site(page, live_server: str) -> list[str]:
    """Abort (and list) every request to another origin."""
    origin = urlsplit(live_server).netloc
    elsewhere: list[str] = []

    def route(r):
        if urlsplit(r.request.url).netloc == origin or r.request.url.startswith("data:"):
            r.continue_()
        else:
            elsewhere.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    return elsewhere
