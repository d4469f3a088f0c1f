"""Tell the coordinator when an ingest, conform or QC fails: a webhook (JSON POST) and/or an e-mail ([smtp])."""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request

from config.errors import PostprodError
from config.mail import SendError, send_mail
from config.settings import Settings


class NotifyError(PostprodError):
    """No configured channel could deliver the notification."""


def notify(settings: Settings, subject: str, body: str, link: str | None = None) -> list[str]:
    """Send to every configured channel; returns the channels that took it (empty when none is configured).

    A channel that fails does not stop the others; if all configured channels fail, NotifyError says why.
    """
    cfg = settings.notify
    sent: list[str] = []
    failures: list[str] = []
    if cfg.webhook_url:
        try:
            _post_webhook(cfg.webhook_url, subject, body, link, cfg.timeout_seconds)
            sent.append("webhook")
        except (OSError, urllib.error.URLError) as exc:
            failures.append(f"webhook {cfg.webhook_url}: {exc}")
    if cfg.email and settings.smtp is not None:
        try:
            _send_mail(settings, subject, body, link)
            sent.append("email")
        except SendError as exc:
            failures.append(f"smtp: {exc}")
    if failures and not sent:
        raise NotifyError("cannot notify the coordinator: " + "; ".join(failures))
    return sent


def _post_webhook(url: str, subject: str, body: str, link: str | None, timeout: float) -> None:
    payload = {"subject": subject, "body": body, "link": link, "source": f"postprod@{socket.gethostname()}",
               # Slack/Mattermost/Teams incoming webhooks read "text"
               "text": f"{subject}\n{body}" + (f"\n{link}" if link else "")}
    request = urllib.request.Request(url, data=json.dumps(payload).encode(), method="POST",
                                     headers={"Content-Type": "application/json", "User-Agent": "postprod"})
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (URL from the admin's settings)
        if response.status >= 300:
            raise OSError(f"HTTP {response.status}")


def _send_mail(settings: Settings, subject: str, body: str, link: str | None) -> None:
    """Through the [smtp] server the planning digest uses; to [notify] email_to, else [smtp] to."""
    assert settings.smtp is not None
    send_mail(settings.smtp, subject, body + (f"\n\nReport: {link}\n" if link else "\n"),
              to=settings.notify.email_to or settings.smtp.to)
