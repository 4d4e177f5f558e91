"""Sending e-mail, when SMTP settings are given (``MAIL_SERVER`` and friends, see
``lms.config``). Mail is sent after the transaction commits, so a slow mail server never
holds one open; a failure is logged and reported as ``False``, never raised: whatever the
mail was about (a reminder, an activation link) stands without it."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage

from flask import current_app


def configured() -> bool:
    return bool(current_app.config.get("MAIL_SERVER"))


def new_message(to: str, subject: str, body: str) -> EmailMessage:
    config = current_app.config
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = config.get("MAIL_FROM") or config.get("MAIL_USERNAME") or "lms@localhost"
    message["To"] = to
    message.set_content(body)
    return message


def send(messages: list[EmailMessage]) -> int:
    """Send ``messages`` over one connection; returns how many went (none when SMTP is not
    configured or the server cannot be reached)."""
    if not messages or not configured():
        return 0
    config = current_app.config
    sent = 0
    try:
        with smtplib.SMTP(
            config["MAIL_SERVER"], int(config.get("MAIL_PORT") or 25), timeout=10
        ) as smtp:
            if config.get("MAIL_USE_TLS"):
                smtp.starttls(context=ssl.create_default_context())
            if config.get("MAIL_USERNAME"):
                smtp.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD") or "")
            for message in messages:
                try:
                    smtp.send_message(message)
                except smtplib.SMTPRecipientsRefused as error:
                    current_app.logger.warning("e-mail to %s refused: %s", message["To"], error)
                else:
                    sent += 1
    except (OSError, smtplib.SMTPException) as error:
        current_app.logger.warning(
            "sending e-mail failed after %d of %d: %s", sent, len(messages), error
        )
    return sent
