"""The web page in a real browser (the distribution's Chromium and its driver, headless): log in, the overview
with PAD delivery blocked, the QC report, the session report form reaching the plan, a technician kept out."""

from __future__ import annotations

import shutil
import socket
import threading
import time

import pytest
from web_fixtures import PASSWORD, TODAY, make_world

from planning import schedule
from web.app import create_app

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(not (CHROMIUM and DRIVER), reason="needs Chromium and chromedriver "
                                "(apt-get install chromium chromium-driver; .ci/run installs them)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture()
def site(settings, make_media):
    import uvicorn

    world = make_world(settings, make_media)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(world.settings, today=lambda: TODAY), host="127.0.0.1",
                                           port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "the web server did not start"
    yield world, f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


@pytest.fixture()
def browser(tmp_path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 f"--user-data-dir={tmp_path / 'chromium'}", "--window-size=1280,1000"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    driver.implicitly_wait(5)
    yield driver
    driver.quit()


def log_in(browser, base: str, name: str) -> None:
    from selenium.webdriver.common.by import By

    browser.get(base + "/")
    assert "/login" in browser.current_url
    browser.find_element(By.ID, "name").send_keys(name)
    browser.find_element(By.ID, "password").send_keys(PASSWORD)
    browser.find_element(By.ID, "login").click()
    browser.find_element(By.ID, "who")


def test_coordinator_sees_pad_delivery_blocked_and_opens_the_qc_report(site, browser, tmp_path) -> None:
    from selenium.webdriver.common.by import By

    world, base = site
    log_in(browser, base, "coord")
    body = browser.find_element(By.TAG_NAME, "body").text
    assert "QC fail: 4 defects" in body and "test" in body
    browser.find_element(By.LINK_TEXT, "test").click()
    row = browser.find_element(By.CSS_SELECTOR, 'tr[data-stage="pad_delivery"]')
    assert "blocked" in row.text
    browser.find_element(By.CSS_SELECTOR, 'a[data-kind="qc"]').click()
    assert "QC FAIL" in browser.find_element(By.TAG_NAME, "h1").text
    browser.save_screenshot(str(tmp_path / "qc.png"))


def test_technician_hands_in_a_report_that_reaches_the_plan(site, browser) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    world, base = site
    log_in(browser, base, "marie")
    assert "Vue d'ensemble" in browser.page_source  # marie reads French
    browser.get(base + "/p/test")
    browser.find_element(By.ID, "new-report").click()
    date_field = browser.find_element(By.ID, "date")
    date_field.clear()
    date_field.send_keys("2026-11-30")
    Select(browser.find_element(By.ID, "stage")).select_by_value("offline_edit")
    browser.find_element(By.ID, "hours").send_keys("7:30")
    browser.find_element(By.ID, "done").send_keys("Assemblage bobine 3")
    browser.find_element(By.ID, "incidents").send_keys("[B007] arrivée tard")
    browser.find_element(By.ID, "submit").click()
    table = browser.find_element(By.CSS_SELECTOR, "table.reports")
    assert "Assemblage bobine 3" in table.text and "[B007] arrivée tard" in table.text
    spent = {st.stage: st.spent_hours for st in schedule.status(world.store, "test", TODAY).stages}
    assert spent["offline_edit"] == 7.5
    # Another production's page is not hers.
    browser.get(base + "/p/other")
    assert "404" in browser.find_element(By.TAG_NAME, "h1").text
