"""Sessions, log-in and CSRF: a signed session cookie (itsdangerous, via Starlette) and a token per session."""

from __future__ import annotations

import hmac
import os
import secrets
from pathlib import Path
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import RedirectResponse

from web.users import User, Users

CSRF_FIELD = "csrf"
CSRF_HEADER = "x-csrf-token"


def session_secret(data_dir: Path) -> str:
    """POSTPROD_WEB_SECRET, else a random key kept (mode 0600) in the data directory, made once."""
    if env := os.environ.get("POSTPROD_WEB_SECRET"):
        return env
    path = data_dir / "web-secret"
    data_dir.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="ascii").strip()
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(secrets.token_hex(32))
    return path.read_text(encoding="ascii").strip()


def csrf_token(request: Request) -> str:
    token = request.session.get(CSRF_FIELD)
    if not token:
        token = request.session[CSRF_FIELD] = secrets.token_urlsafe(32)
    return token


async def csrf_ok(request: Request) -> bool:
    """A state-changing request carries the session's token, in the form or (htmx) in a header."""
    expected = request.session.get(CSRF_FIELD)
    if not expected:
        return False
    given = request.headers.get(CSRF_HEADER)
    if given is None:
        form = await request.form()
        value = form.get(CSRF_FIELD)
        given = value if isinstance(value, str) else None
    return given is not None and hmac.compare_digest(given, expected)


def current_user(request: Request, users: Users) -> User | None:
    name = request.session.get("user")
    return users.get(name) if isinstance(name, str) else None


def login_redirect(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(target)}", status_code=303)


def safe_next(value: str | None) -> str:
    """Only a path on this site: never an absolute or scheme-relative URL (open redirect)."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value
