"""`postprod serve` (the web page) and `postprod user ...` (its users, managed from the command line)."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from cli.app import JsonOpt, app, emit_json, out, settings
from cli.text import escape

user_app = typer.Typer(help="The web page's users: coordinator, technicians, producers.", no_args_is_help=True)
app.add_typer(user_app, name="user")

RoleOpt = Annotated[str, typer.Option("--role", "-r", help="coordinator, technician or producer.")]
ProductionsOpt = Annotated[list[str] | None, typer.Option("--production", "-p", metavar="NAME",
                                                          help="A production the user belongs to (repeat).")]
LanguageOpt = Annotated[str, typer.Option("--language", "-l", help="fr or en.")]
PasswordStdin = Annotated[bool, typer.Option("--password-stdin", help="Read the password from standard input "
                                                                      "(else it is asked twice).")]


@app.command("serve")
def serve(
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8200,
    https_only: Annotated[bool, typer.Option("--https-only", help="Send the session cookie only over HTTPS "
                                                                  "(behind a TLS reverse proxy).")] = False,
    json_out: JsonOpt = False,
) -> None:
    """The web page for the coordinator, technicians and producers (runs until stopped)."""
    import uvicorn

    from web.app import create_app

    s = settings()
    web_app = create_app(s, https_only=https_only)
    if json_out:
        emit_json({"url": f"http://{host}:{port}/", "public_url": s.public_url, "database": s.db_url})
    else:
        public = escape(s.public_url or "not set")
        out.print(f"postprod web page on http://{escape(host)}:{port}/ (public URL: {public})")
    uvicorn.run(web_app, host=host, port=port, log_level="warning", proxy_headers=True)


def _users():  # type: ignore[no-untyped-def]
    from planning.store import PlanningStore
    from web.users import Users

    return Users(PlanningStore(settings().db_url).engine)


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    return typer.prompt("Password", hide_input=True, confirmation_prompt=True)


@user_app.command("add")
def user_add(name: str, role: RoleOpt, productions: ProductionsOpt = None, language: LanguageOpt = "fr",
             password_stdin: PasswordStdin = False, json_out: JsonOpt = False) -> None:
    """Make a user of the web page."""
    from web.users import Role, UserError

    try:
        role_value = Role(role)
    except ValueError:
        raise UserError(f"unknown role '{role}'; available: {', '.join(r.value for r in Role)}") from None
    user = _users().add(name, _password(password_stdin), role_value, language=language, productions=productions)
    if json_out:
        emit_json({"user": user.to_json()})
    else:
        out.print(f"user {escape(user.name)} ({user.role.value}) added")


@user_app.command("list")
def user_list(json_out: JsonOpt = False) -> None:
    """List the users of the web page."""
    users = _users().all()
    if json_out:
        emit_json({"users": [u.to_json() for u in users]})
        return
    for u in users:
        out.print(f"{escape(u.name)}\t{u.role.value}\t{u.language}\t{escape(', '.join(u.productions) or 'all')}")


@user_app.command("remove")
def user_remove(name: str, json_out: JsonOpt = False) -> None:
    """Remove a user of the web page."""
    _users().remove(name)
    if json_out:
        emit_json({"removed": name})
    else:
        out.print(f"user {escape(name)} removed")


@user_app.command("password")
def user_password(name: str, password_stdin: PasswordStdin = False, json_out: JsonOpt = False) -> None:
    """Set a user's password."""
    _users().set_password(name, _password(password_stdin))
    if json_out:
        emit_json({"user": name, "password": "changed"})
    else:
        out.print(f"password of {escape(name)} changed")
