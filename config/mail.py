"""The one e-mail sender: a message (plain text, and HTML when given) through the [smtp] server of the settings.

Used by the planning digest, the money alerts and the flows' failure notices. Every failure becomes a
SendError naming the server and the cause (login refused, STARTTLS failed, server unreachable...).
"""

from __future__ import annotations

import html
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import TYPE_CHECKING

from config.errors import PostprodError

if TYPE_CHECKING:
    from config.settings import SmtpSettings


class SendError(PostprodError):
    """The message could not be handed to the SMTP server."""


def send_mail(smtp: SmtpSettings, subject: str, text: str, html_part: str | None = None, *,
              to: list[str] | None = None) -> list[str]:
    """Send one message to `to` (default: [smtp] to); returns the recipients the server accepted."""
    recipients = to or smtp.to
    msg = EmailMessage()
    msg["Subject"] = subject
    msg["From"] = smtp.sender
    msg["To"] = ", ".join(recipients)
    msg["Date"] = formatdate(localtime=True)
    msg["Message-ID"] = make_msgid(domain="postprod")
    msg.set_content(text)
    if html_part is not None:
        msg.add_alternative(html_part, subtype="html")
    where = f"{smtp.host}:{smtp.port}"
    try:
        with smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout) as client:
            client.ehlo()
            if smtp.starttls:
                context = ssl.create_default_context(cafile=str(smtp.ca_file) if smtp.ca_file else None)
                client.starttls(context=context)
                client.ehlo()
            if smtp.username:
                client.login(smtp.username, smtp.password or "")
            refused = client.send_message(msg)
    except smtplib.SMTPAuthenticationError as exc:
        raise SendError(f"SMTP server {where} refused the login of '{smtp.username}': {_smtp_text(exc)}") from exc
    except smtplib.SMTPNotSupportedError as exc:
        raise SendError(f"SMTP server {where} does not offer {exc}") from exc
    except smtplib.SMTPException as exc:
        raise SendError(f"SMTP server {where}: {_smtp_text(exc)}") from exc
    except ssl.SSLError as exc:
        raise SendError(f"STARTTLS with {where} failed: {exc.reason or exc}") from exc
    except OSError as exc:
        raise SendError(f"cannot reach the SMTP server {where}: {exc.strerror or exc}") from exc
    return [r for r in recipients if r not in refused]


def _smtp_text(exc: smtplib.SMTPException) -> str:
    if isinstance(exc, smtplib.SMTPResponseException):
        msg = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
        return f"{exc.smtp_code} {msg}"
    return html.unescape(str(exc))
