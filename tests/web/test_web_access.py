"""The web page over HTTP: log-in, CSRF, who sees what (403/404), escaping, languages, the session report
form reaching the plan, the coordinator's review, reports served from the production's evidence only."""

from __future__ import annotations

import re

import pytest
from starlette.testclient import TestClient
from web_fixtures import PASSWORD, TODAY, World, make_world

from planning import schedule
from web.app import create_app
from web.throttle import ADDRESS_FAILURES, LOCK, NAME_FAILURES, WINDOW, LoginThrottle


@pytest.fixture()
def world(settings, make_media) -> World:
    return make_world(settings, make_media)


@pytest.fixture()
def client(world: World) -> TestClient:
    return TestClient(create_app(world.settings, today=lambda: TODAY), follow_redirects=False)


def csrf_of(client: TestClient, url: str = "/login") -> str:
    page = client.get(url)
    match = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert match, page.text[:500]
    return match.group(1)


def log_in(client: TestClient, name: str, password: str = PASSWORD) -> None:
    response = client.post("/login", data={"name": name, "password": password, "csrf": csrf_of(client), "next": "/"})
    assert response.status_code == 303, response.text[:300]


def test_health_is_open_and_everything_else_asks_for_a_log_in(client: TestClient) -> None:
    assert client.get("/health").json()["status"] == "ok"
    for url in ("/", "/p/test", "/p/test/catalogue", "/p/test/reports/new"):
        response = client.get(url)
        assert response.status_code == 303 and response.headers["location"].startswith("/login?next=")
    assert client.post("/p/test/reports/new", data={"date": "2026-11-30"}).status_code == 403


def test_wrong_password_is_refused_and_a_foreign_next_is_ignored(client: TestClient) -> None:
    token = csrf_of(client)
    bad = client.post("/login", data={"name": "coord", "password": "nope", "csrf": token})
    assert bad.status_code == 401 and "Wrong name or password" in bad.text or "incorrect" in bad.text
    good = client.post("/login", data={"name": "coord", "password": PASSWORD, "csrf": token,
                                       "next": "https://evil.example/"})
    assert good.status_code == 303 and good.headers["location"] == "/"


def test_repeated_wrong_passwords_make_the_name_wait(client: TestClient) -> None:
    token = csrf_of(client)
    for _ in range(NAME_FAILURES):
        assert client.post("/login", data={"name": "coord", "password": "guess", "csrf": token}).status_code == 401
    # Now even the right password is refused, unchecked, until the lock ends; the page says for how long.
    locked = client.post("/login", data={"name": "coord", "password": PASSWORD, "csrf": token},
                         headers={"Accept-Language": "en"})
    assert locked.status_code == 429 and int(locked.headers["retry-after"]) > 0
    assert "Too many failed log-ins: try again in 15 minutes." in locked.text
    french = client.post("/login", data={"name": "coord", "password": PASSWORD, "csrf": token},
                         headers={"Accept-Language": "fr"})
    assert "checs de connexion : réessayez dans 15 minutes." in french.text
    assert client.get("/").status_code == 303  # not logged in
    log_in(client, "prod")  # another name is not held up by coord's guesser (below the address's limit)


def test_the_lock_counts_failures_in_a_window_and_ends(monkeypatch) -> None:
    now = [1000.0]
    throttle = LoginThrottle(clock=lambda: now[0])
    for _ in range(NAME_FAILURES - 1):
        throttle.failed("Claire", "10.0.0.1")
        now[0] += WINDOW / (NAME_FAILURES - 1)
    assert throttle.wait_seconds("claire", "10.0.0.1") == 0
    now[0] += 1  # the first failure has left the window: still under the limit
    throttle.failed("claire", "10.0.0.2")
    assert throttle.wait_seconds("claire", "10.0.0.3") == 0
    for _ in range(2):
        throttle.failed("CLAIRE ", "10.0.0.2")  # the same name, however typed
    assert throttle.wait_seconds("claire", "10.0.0.9") == LOCK  # a name waits wherever it comes from
    now[0] += LOCK
    assert throttle.wait_seconds("claire", "10.0.0.9") == 0
    for i in range(ADDRESS_FAILURES):  # one address trying many names
        throttle.failed(f"user{i}", "10.0.0.66")
    assert throttle.wait_seconds("somebody", "10.0.0.66") > 0 and throttle.wait_seconds("somebody", "10.0.0.7") == 0
    throttle.failed("paul", "10.0.0.8")
    throttle.succeeded("paul")  # a success clears the name's count
    assert throttle._counts.get(("name", "paul")) is None


def test_log_in_without_the_csrf_token_is_refused(client: TestClient) -> None:
    client.get("/login")
    assert client.post("/login", data={"name": "coord", "password": PASSWORD}).status_code == 403
    assert client.get("/").status_code == 303  # still logged out


def test_coordinator_sees_every_production_late_and_blocked(client: TestClient) -> None:
    log_in(client, "coord")
    page = client.get("/")
    assert page.status_code == 200
    assert "/p/test" in page.text and "/p/other" in page.text
    assert "QC fail: 4 defects" in page.text


def test_a_technician_sees_only_their_productions(client: TestClient) -> None:
    log_in(client, "omar")
    overview = client.get("/")
    assert "/p/other" in overview.text and "/p/test" not in overview.text
    for url in ("/p/test", "/p/test/catalogue", "/p/test/reports/new", "/p/nope"):
        assert client.get(url).status_code == 404, url
    assert client.get("/p/other").status_code == 200


def test_a_report_file_is_served_only_to_its_production(client: TestClient, world: World) -> None:
    log_in(client, "marie")
    page = client.get("/p/test")
    links = re.findall(r'href="(/p/test/files/[0-9a-f]+)"', page.text)
    assert len(links) == 1
    report = client.get(links[0])
    assert report.status_code == 200 and "QC FAIL" in report.text
    assert "default-src 'none'" in report.headers["content-security-policy"]
    # The other production's report, by its id, from this production's URL or its own: not for marie.
    from planning.links import report_id

    other = report_id(world.other_qc_html)
    assert client.get(f"/p/test/files/{other}").status_code == 404
    assert client.get(f"/p/other/files/{other}").status_code == 404
    assert client.get("/p/test/files/..%2F..%2Fpostprod.toml").status_code == 404


def test_session_report_form_reaches_the_plan(client: TestClient, world: World) -> None:
    log_in(client, "marie")
    before = {st.stage: st.spent_hours for st in schedule.status(world.store, "test", TODAY).stages}
    token = csrf_of(client, "/p/test/reports/new")
    form = {"csrf": token, "date": "30/11/2026", "stage": "offline_edit", "hours": "7h30",
            "done": "Assemblage <b>séquence 12</b>", "incidents": "rushes [B007] manquants", "technician": "someone else"}
    response = client.post("/p/test/reports/new", data=form)
    assert response.status_code == 303
    rows = world.store.reports("test")
    assert len(rows) == 1 and rows[0]["technician"] == "marie" and rows[0]["minutes"] == 450
    after = {st.stage: st.spent_hours for st in schedule.status(world.store, "test", TODAY).stages}
    assert after["offline_edit"] == before["offline_edit"] + 7.5
    page = client.get("/p/test")
    assert "Assemblage &lt;b&gt;séquence 12&lt;/b&gt;" in page.text and "<b>séquence" not in page.text
    assert "rushes [B007] manquants" in page.text


def test_bad_form_values_are_named_and_nothing_is_stored(client: TestClient, world: World) -> None:
    log_in(client, "coord")
    token = csrf_of(client, "/p/test/reports/new")
    response = client.post("/p/test/reports/new", data={
        "csrf": token, "date": "31/02/2026", "stage": "nope", "hours": "30", "done": "", "technician": "x"})
    assert response.status_code == 400
    for words in ("31/02/2026", "nope", "30"):
        assert words in response.text
    assert world.store.reports("test") == []


def test_a_post_without_the_csrf_token_changes_nothing(client: TestClient, world: World) -> None:
    log_in(client, "marie")
    response = client.post("/p/test/reports/new", data={"date": "2026-11-30", "stage": "offline_edit",
                                                        "hours": "8", "done": "x"})
    assert response.status_code == 403
    assert world.store.reports("test") == []


def test_coordinator_reviews_and_a_rejected_report_no_longer_counts(client: TestClient, world: World) -> None:
    log_in(client, "marie")
    token = csrf_of(client, "/p/test/reports/new")
    client.post("/p/test/reports/new", data={"csrf": token, "date": "2026-11-30", "stage": "offline_edit",
                                             "hours": "8", "done": "montage"})
    rid = world.store.reports("test")[0]["id"]
    # A technician may not review, even their own report.
    assert client.post(f"/p/test/reports/{rid}/review", data={"csrf": token, "action": "rejected"}).status_code == 403
    client.post("/logout", data={"csrf": token})
    log_in(client, "coord")
    token = csrf_of(client, "/p/test/reports/new")
    spent = lambda: {st.stage: st.spent_hours for st in schedule.status(world.store, "test", TODAY).stages}  # noqa: E731
    assert spent()["offline_edit"] == 8
    corrected = client.post(f"/p/test/reports/{rid}/review", data={"csrf": token, "action": "corrected", "hours": "6"},
                            headers={"HX-Request": "true"})
    assert corrected.status_code == 200 and f'id="report-{rid}"' in corrected.text
    assert spent()["offline_edit"] == 6 and world.store.reports("test")[0]["original_minutes"] == 480
    client.post(f"/p/test/reports/{rid}/review", data={"csrf": token, "action": "rejected"})
    assert spent()["offline_edit"] == 0 and world.store.reports("test") == []
    assert world.store.reports("test", include_rejected=True)[0]["review"] == "rejected"


def test_the_producer_reads_but_writes_no_report(client: TestClient) -> None:
    log_in(client, "prod")
    assert client.get("/p/test").status_code == 200
    assert client.get("/p/test/reports/new").status_code == 403
    assert client.get("/p/other").status_code == 404


def test_each_user_reads_their_language(client: TestClient) -> None:
    log_in(client, "marie")
    page = client.get("/")
    assert "Vue d'ensemble" in page.text and 'lang="fr"' in page.text
    client.cookies.clear()
    log_in(client, "coord")
    page = client.get("/")
    assert "Overview" in page.text and 'lang="en"' in page.text


def test_catalogue_finds_the_clip_that_holds_a_timecode_on_a_reel(settings, make_media) -> None:
    world = make_world(settings, make_media, with_card=True)
    client = TestClient(create_app(world.settings, today=lambda: TODAY), follow_redirects=False)
    log_in(client, "marie")
    hit = client.get("/p/test/catalogue", params={"reel": "b007", "timecode": "14:22:10:05"})
    assert hit.status_code == 200 and "B007C003_261130_R2CD.mov" in hit.text
    miss = client.get("/p/test/catalogue", params={"reel": "B007", "timecode": "14:22:11:05"})
    assert "B007C003_261130_R2CD.mov" not in miss.text
    bad = client.get("/p/test/catalogue", params={"timecode": "<script>"}, headers={"HX-Request": "true"})
    assert "&lt;script&gt;" in bad.text and "<script>" not in bad.text
    # The ingest report of the card is served from the production page.
    page = client.get("/p/test")
    assert re.search(r'data-kind="ingest"', page.text)


def test_markup_in_names_is_escaped(client: TestClient, world: World) -> None:
    from planning import plan

    plan.create(world.store, "<script>alert(1)</script>", "fiction", TODAY)
    log_in(client, "coord")
    page = client.get("/")
    assert "<script>alert(1)</script>" not in page.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text


def test_the_digest_links_open_the_server_pages(client: TestClient, world: World) -> None:
    from planning import digest

    d = digest.build(world.store, TODAY, public_url="http://testserver/")
    blocked = {i.production: i for i in d.blocked}
    hrefs = [link.href for link in blocked["test"].links]
    assert hrefs and all(h.startswith("http://testserver/p/test/files/") for h in hrefs)
    assert "file://" not in d.html and 'href="http://testserver/p/test"' in d.html
    log_in(client, "prod")
    response = client.get(hrefs[0].removeprefix("http://testserver"))
    assert response.status_code == 200 and "QC FAIL" in response.text


def test_money_for_the_coordinator_and_the_producer_never_for_a_technician(client: TestClient, world: World,
                                                                            workspace) -> None:
    import subprocess
    import sys

    made = subprocess.run([sys.executable, "-m", "cli.main", "plan", "quote", "-p", "test", "--json"],
                          capture_output=True, text=True, timeout=120)
    assert made.returncode == 0, made.stderr
    log_in(client, "prod")
    overview = client.get("/")
    assert 'class="money"' in overview.text and "Quote v1" in overview.text
    page = client.get("/p/test")
    assert "Money by stage" in page.text
    quote_links = re.findall(r'href="(/p/test/files/[0-9a-f]+)" data-kind="money"', page.text)
    assert len(quote_links) == 2  # the quote as HTML and PDF
    pdf = [u for u in quote_links if client.get(u).headers["content-type"] == "application/pdf"]
    assert len(pdf) == 1 and client.get(pdf[0]).content.startswith(b"%PDF")
    client.cookies.clear()
    log_in(client, "marie")
    for url in ("/", "/p/test"):
        text = client.get(url).text
        assert 'class="money"' not in text and "data-kind=\"money\"" not in text
    for url in quote_links:
        assert client.get(url).status_code == 404
