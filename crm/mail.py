"""Outgoing mail through the backend the app config names (set from the environment in crm/config.py):
MAIL_BACKEND "log" (default) appends each message to MAIL_OUTBOX; "smtp" sends it through SMTP_HOST,
SMTP_PORT, SMTP_USER, SMTP_PASSWORD, from MAIL_FROM. Needs an app context, as jobs and requests have."""
import logging
import smtplib
from email.message import EmailMessage
from pathlib import Path

from flask import current_app

log = logging.getLogger(__name__)


def send_mail(to: str, subject: str, body: str) -> None:
    """Send one plain-text message with the configured backend."""
    config = current_app.config
    message = EmailMessage()
    message["From"] = config["MAIL_FROM"]
    message["To"], message["Subject"] = to, subject
    message.set_content(body)
    if config["MAIL_BACKEND"] == "smtp":
        with smtplib.SMTP(config["SMTP_HOST"], int(config["SMTP_PORT"])) as smtp:
            smtp.starttls()
            if config["SMTP_USER"]:
                smtp.login(config["SMTP_USER"], config["SMTP_PASSWORD"])
            smtp.send_message(message)
        return
    outbox = Path(config["MAIL_OUTBOX"])
    outbox.parent.mkdir(parents=True, exist_ok=True)
    with outbox.open("a", encoding="utf-8") as file:
        file.write(message.as_string() + "\n")
    log.info("Mail to %s: %s", to, subject)
