"""The web application: routes, and who may see what. Pages are rendered on the server (Jinja2), htmx for the
interactive parts; every page but /health is behind the log-in."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from config import __version__
from config.settings import Settings
from ingest.catalogue import Catalogue
from planning import digest, schedule
from planning.store import PlanningStore
from store import Store
from web import catalogue_search, sessions
from web.evidence import ReportFile, money_documents, report_files
from web.i18n import HERE, environment, gettext_for
from web.security import csrf_ok, csrf_token, current_user, login_redirect, safe_next, session_secret
from web.throttle import LoginThrottle
from web.users import User, Users

Handler = Callable[[Request], Awaitable[Response]]

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'",
}
# Our own report pages inline their thumbnails and styles and run no script.
REPORT_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"


class Web:
    """What the pages share: settings, the store, the users, today's date (fixed in tests)."""

    def __init__(self, settings: Settings, today: Callable[[], date] = date.today) -> None:
        self.settings = settings
        store = Store(settings.db_url)  # one store: its schema made or migrated once
        self.store = PlanningStore(store)
        self.catalogue = Catalogue(store)
        self.users = Users(self.store.engine)
        self.throttle = LoginThrottle()
        self.today = today

    def render(self, request: Request, user: User | None, template: str, status: int = 200,
               headers: dict[str, str] | None = None, **context: Any) -> Response:
        language = user.language if user else _browser_language(request)
        html = environment(language).get_template(template).render(
            user=user, csrf=csrf_token(request), version=__version__, public_url=self.settings.public_url,
            path=request.url.path, **context)
        return HTMLResponse(html, status_code=status, headers={**SECURITY_HEADERS, **(headers or {})})

    def production_or_404(self, user: User, name: str) -> dict[str, Any]:
        """The production, if it exists and the user belongs to it: 404 otherwise (no hint that it exists)."""
        prod = self.store.production(name)
        if prod is None or not user.can_see(name):
            raise HTTPException(404)
        return prod

    def reports_of(self, production: str, user: User) -> dict[str, ReportFile]:
        """The report files this user may open for the production: its evidence; money documents too for
        those who see money."""
        evidences = [row["evidence"] for row in self.store.stage_rows(production)]
        evidences += [e.get("evidence") or {} for e in self.store.events(production)]
        found = report_files(evidences, catalogue_search.ingest_rows(self.catalogue, production))
        if user.sees_money:
            names = [p["name"] for p in self.store.productions()]
            found.update(money_documents(self.settings.reports_dir, production, names))
        else:
            found = {k: f for k, f in found.items() if f.kind != "money"}
        return found

    def money(self, statuses: list[Any], user: User) -> dict[str, Any]:
        """Quoted, spent and forecast per production, for those who see money (never a technician)."""
        if not user.sees_money or not statuses:
            return {}
        from planning.money.service import money_of

        return money_of(self.store, statuses, self.settings)


def _browser_language(request: Request) -> str:
    accept = request.headers.get("accept-language", "").lower()
    return "en" if accept.startswith("en") else "fr"


def page(web: Web, handler: Callable[[Web, Request, User], Awaitable[Response]]) -> Handler:
    """Behind the log-in; a POST must carry the session's CSRF token."""

    async def endpoint(request: Request) -> Response:
        user = current_user(request, web.users)
        if user is None:
            if request.method == "POST":
                raise HTTPException(403)
            return login_redirect(request)
        if request.method == "POST" and not await csrf_ok(request):
            raise HTTPException(403, "CSRF token missing or wrong")
        return await handler(web, request, user)

    return endpoint


# --- pages ---------------------------------------------------------------------------------------------------

async def health(request: Request) -> Response:
    return JSONResponse({"status": "ok", "version": __version__})


def login_page(web: Web) -> Handler:
    async def endpoint(request: Request) -> Response:
        next_url = safe_next(request.query_params.get("next"))
        if request.method == "GET":
            return web.render(request, None, "login.html.j2", next=next_url, failed=False)
        if not await csrf_ok(request):
            raise HTTPException(403, "CSRF token missing or wrong")
        form = await request.form()
        name, password = str(form.get("name", "")), str(form.get("password", ""))
        address = request.client.host if request.client else "unknown"
        wait = web.throttle.wait_seconds(name, address)
        if wait:  # refused before the password is even looked at (web/throttle.py)
            return web.render(request, None, "login.html.j2", status=429, next=safe_next(str(form.get("next", ""))),
                              failed=False, wait_minutes=max(1, -(-wait // 60)), name=name,
                              headers={"Retry-After": str(wait)})
        user = web.users.authenticate(name, password)
        if user is None:
            web.throttle.failed(name, address)
            return web.render(request, None, "login.html.j2", status=401, next=safe_next(str(form.get("next", ""))),
                              failed=True, name=name)
        web.throttle.succeeded(name)
        request.session.clear()  # a new session at log-in: no fixation
        request.session["user"] = user.name
        return RedirectResponse(safe_next(str(form.get("next", ""))), status_code=303)

    return endpoint


async def logout(web: Web, request: Request, user: User) -> Response:
    request.session.clear()
    return RedirectResponse("/login", status_code=303)


async def overview(web: Web, request: Request, user: User) -> Response:
    today = web.today()
    statuses = [s for s in schedule.all_statuses(web.store, today) if s.stages and user.can_see(s.production)]
    late = [(s.production, st) for s in statuses for st in s.stages if st.state.value == "late"]
    blocked = [(s.production, st) for s in statuses for st in s.stages if st.state.value == "blocked"]
    return web.render(request, user, "overview.html.j2", today=today, statuses=statuses, late=late, blocked=blocked,
                      gantts={s.production: digest.gantt(s) for s in statuses}, money=web.money(statuses, user))


async def production(web: Web, request: Request, user: User) -> Response:
    name = request.path_params["name"]
    web.production_or_404(user, name)
    today = web.today()
    ps = schedule.status(web.store, name, today)
    reports = sessions.visible_reports(web.store, name, user)
    files = sorted(web.reports_of(name, user).values(), key=lambda r: (r.kind, r.name))
    money = web.money([ps], user).get(name)
    return web.render(request, user, "production.html.j2", production=name, ps=ps, today=today, money=money,
                      gantt=digest.gantt(ps), reports=reports, files=files,
                      cards=catalogue_search.cards(web.catalogue, name))


async def report_file(web: Web, request: Request, user: User) -> Response:
    name = request.path_params["name"]
    web.production_or_404(user, name)
    found = web.reports_of(name, user).get(request.path_params["rid"])
    if found is None:
        raise HTTPException(404)
    headers = dict(SECURITY_HEADERS, **{"Content-Security-Policy": REPORT_CSP})
    media_type = {".html": "text/html; charset=utf-8", ".json": "application/json", ".pdf": "application/pdf",
                  ".csv": "text/csv; charset=utf-8"}.get(found.path.suffix)
    return FileResponse(found.path, headers=headers, filename=found.name, media_type=media_type,
                        content_disposition_type="inline")


async def catalogue(web: Web, request: Request, user: User) -> Response:
    name = request.path_params["name"]
    web.production_or_404(user, name)
    query = catalogue_search.Query.from_params(request.query_params)
    result = catalogue_search.search(web.catalogue, name, query)
    template = "catalogue_rows.html.j2" if request.headers.get("hx-request") else "catalogue.html.j2"
    return web.render(request, user, template, production=name, query=query, result=result,
                      cards=catalogue_search.cards(web.catalogue, name))


async def report_form(web: Web, request: Request, user: User) -> Response:
    name = request.path_params["name"]
    web.production_or_404(user, name)
    if not user.can_write_reports:
        raise HTTPException(403)
    stages = web.store.stage_rows(name)
    if request.method == "GET":
        return web.render(request, user, "report_form.html.j2", production=name, stages=stages, errors=[],
                          values={"date": web.today().isoformat(), "technician": user.name})
    form = {k: str(v) for k, v in (await request.form()).items()}
    _ = gettext_for(user.language)
    report, errors = sessions.from_form(web.store, name, user, form, _)
    if errors:
        return web.render(request, user, "report_form.html.j2", status=400, production=name, stages=stages,
                          errors=errors, values=form)
    sessions.submit(web.store, report, web.today())
    return RedirectResponse(f"/p/{_quote(name)}#reports", status_code=303)


async def review(web: Web, request: Request, user: User) -> Response:
    name = request.path_params["name"]
    web.production_or_404(user, name)
    if not user.reviews_reports:
        raise HTTPException(403)
    form = {k: str(v) for k, v in (await request.form()).items()}
    _ = gettext_for(user.language)
    error = sessions.review(web.store, name, int(request.path_params["rid"]), user, form, _, web.today())
    if error:
        raise HTTPException(400, error)
    if request.headers.get("hx-request"):
        rid = int(request.path_params["rid"])
        row = next(r for r in sessions.visible_reports(web.store, name, user) if r["id"] == rid)
        return web.render(request, user, "report_row.html.j2", production=name, r=row)
    return RedirectResponse(f"/p/{_quote(name)}#reports", status_code=303)


def _quote(name: str) -> str:
    from urllib.parse import quote

    return quote(name, safe="")


def create_app(settings: Settings, *, today: Callable[[], date] = date.today, https_only: bool = False) -> Starlette:
    web = Web(settings, today)

    async def error_page(request: Request, exc: HTTPException) -> Response:
        user = current_user(request, web.users) if "session" in request.scope else None
        return web.render(request, user, "error.html.j2", status=exc.status_code, status_code=exc.status_code,
                          detail=exc.detail)

    routes = [
        Route("/health", health),
        Route("/login", login_page(web), methods=["GET", "POST"]),
        Route("/logout", page(web, logout), methods=["POST"]),
        Route("/", page(web, overview)),
        Route("/p/{name}", page(web, production)),
        Route("/p/{name}/files/{rid}", page(web, report_file)),
        Route("/p/{name}/catalogue", page(web, catalogue)),
        Route("/p/{name}/reports/new", page(web, report_form), methods=["GET", "POST"]),
        Route("/p/{name}/reports/{rid:int}/review", page(web, review), methods=["POST"]),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    middleware = [Middleware(SessionMiddleware, secret_key=session_secret(settings.data_path),
                             session_cookie="postprod_session", same_site="lax", https_only=https_only,
                             max_age=12 * 3600)]
    return Starlette(routes=routes, middleware=middleware, exception_handlers={HTTPException: error_page})

