"""Outgoing mail through the configured backend: "log" (default; appends to instance/outbox.log)
or "smtp" (SMTP_HOST, SMTP_PORT, SMTP_USER, SMTP_PASSWORD, MAIL_FROM)."""
import logging
import os
import smtplib
from email.message import EmailMessage
from pathlib import Path

from crm.config import INSTANCE

log = logging.getLogger(__name__)
OUTBOX = Path(os.environ.get("MAIL_OUTBOX", INSTANCE / "outbox.log"))


def send_mail(to: str, subject: str, body: str) -> None:
    message = EmailMessage()
    message["From"] = os.environ.get("MAIL_FROM", "crm@localhost")
    message["To"], message["Subject"] = to, subject
    message.set_content(body)
    if os.environ.get("MAIL_BACKEND", "log") == "smtp":
        with smtplib.SMTP(os.environ["SMTP_HOST"], int(os.environ.get("SMTP_PORT", 587))) as smtp:
            smtp.starttls()
            if os.environ.get("SMTP_USER"):
                smtp.login(os.environ["SMTP_USER"], os.environ.get("SMTP_PASSWORD", ""))
            smtp.send_message(message)
        return
    OUTBOX.parent.mkdir(parents=True, exist_ok=True)
    with OUTBOX.open("a", encoding="utf-8") as outbox:
        outbox.write(message.as_string() + "\n")
    log.info("Mail to %s: %s", to, subject)
