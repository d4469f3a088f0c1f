"""The demo's web step: users for the web page (a coordinator, a technician, a producer of the demo
production), made once, and how to open it: `postprod serve`, then log in."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.markup import escape

from config.settings import load_settings
from store import Store
from web.users import Role, Users

if TYPE_CHECKING:
    from demo.context import DemoContext

# Demo accounts on a demo database: the passwords are printed on purpose.
DEMO_USERS = [
    ("claire", "demo-claire", Role.COORDINATOR, "fr", []),
    ("marie", "demo-marie", Role.TECHNICIAN, "fr", ["demo"]),
    ("paul", "demo-paul", Role.PRODUCER, "en", ["demo"]),
]


def web_step(ctx: DemoContext) -> None:
    settings = load_settings(ctx.config)
    users = Users(Store(settings.db_url).engine)
    for name, password, role, language, productions in DEMO_USERS:
        if users.get(name) is None:
            users.add(name, password, role, language=language, productions=productions)
    ctx.say("[bold]Web page[/]: users " + ", ".join(f"{n} ({r.value}, password {p})" for n, p, r, _, _ in DEMO_USERS))
    ctx.say(f"  open it with: postprod --config {escape(str(ctx.config))} serve   then http://127.0.0.1:8200/")
