"""Shared steps for the browser tests."""
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
