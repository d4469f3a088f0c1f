"""The coordinator's digest: content, links to the flows' reports, and delivery to a real SMTP server."""

from __future__ import annotations

import datetime as dt
import email
import socket
import ssl
from email import policy
from pathlib import Path

import db_fixtures
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cli_helpers import postprod, postprod_json
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from planning import plan
from planning.stages import Stage, StageState
from planning.store import PlanningStore, SessionReport

db_url = db_fixtures.db_url  # fixtures: SQLite and PostgreSQL
pg_server = db_fixtures.pg_server


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], bytes]] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((list(envelope.rcpt_tos), envelope.original_content or envelope.content))
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_plans(url: str, reports_dir: Path) -> Path:
    """Two productions: one with a blocked conform (a report to link), one late on grading hours."""
    store = PlanningStore(url)
    plan.create(store, "alpha", "fiction", dt.date(2026, 1, 5))
    plan.create(store, "beta", "documentary", dt.date(2026, 2, 2))
    report = reports_dir / "conform" / "alpha_v3.html"
    report.parent.mkdir(parents=True)
    report.write_text("<html>conform report</html>")
    (report.with_suffix(".json")).write_text("{}")
    store.set_state("alpha", Stage.RUSHES_RECEPTION, StageState.DONE, note="4 of 4 cards",
                    evidence={"ingests": [1, 2], "reports": ["/nonexistent/ingest.json"]})
    store.set_state("alpha", Stage.CONFORM, StageState.BLOCKED, note="3 events without source media",
                    evidence={"run": "conform-7", "report_json": str(report.with_suffix(".json")),
                              "report_html": str(report)})
    store.add_reports([SessionReport(production="beta", stage="grading", technician="Léa",
                                     work_date=dt.date(2026, 3, 10), minutes=10 * 60, done=f"day {i}",
                                     incidents="monitor calibration lost" if i == 2 else None) for i in range(6)])
    plan.reconcile(store, "beta", dt.date(2026, 3, 12))
    return report


@pytest.fixture()
def inbox():
    box = Inbox()
    controller = Controller(box, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield box, controller.port
    controller.stop()


def test_digest_page_and_sending(workspace: Path, db_url: str, inbox, monkeypatch: pytest.MonkeyPatch,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    box, port = inbox
    monkeypatch.setenv("POSTPROD_DATABASE_URL", db_url)
    with (workspace / "postprod.toml").open("a") as fh:
        fh.write(f'\n[smtp]\nhost = "127.0.0.1"\nport = {port}\nfrom = "postprod@studio.test"\n'
                 f'to = ["coord@studio.test", "prod@studio.test"]\n')
    report = make_plans(db_url, workspace / "data" / "reports")
    page = workspace / "digest.html"
    code, data = postprod_json(capsys, monkeypatch, "plan", "digest", "--out", str(page), "--send",
                               "--today", "2026-03-12")
    assert code == 0 and data["sent_to"] == ["coord@studio.test", "prod@studio.test"]
    assert {(i["production"], i["stage"]) for i in data["blocked"]} == {("alpha", "conform")}
    assert ("beta", "grading") in {(i["production"], i["stage"]) for i in data["late"]}
    assert [(f["production"], f["stage"]) for f in data["finished"]] == [("alpha", "rushes_reception")]

    html = page.read_text()
    assert html.startswith("<!DOCTYPE html>") and "<svg" in html and "<link" not in html and "<script" not in html
    assert html.count(f'href="{report.as_uri()}"') == 1  # the conform report: JSON and HTML evidence, one link
    assert "3 events without source media" in html and "monitor calibration lost" in html
    assert "over its hours by 20 h" in html

    [(rcpt, raw)] = box.messages
    assert rcpt == ["coord@studio.test", "prod@studio.test"]
    msg = email.message_from_bytes(raw, policy=policy.default)
    assert msg["Subject"].startswith("postprod digest 2026-03-12:") and "1 blocked" in msg["Subject"]
    body = msg.get_body(("html",)).get_content()
    assert "alpha" in body and "<svg" in body
    plain = msg.get_body(("plain",)).get_content()
    assert "alpha / Conform" in plain
    assert "incident 2026-03-10 Léa: monitor calibration lost" in plain  # as in the HTML part

    # The next digest reports only what finished since this one.
    code, data = postprod_json(capsys, monkeypatch, "plan", "digest", "--out", str(page), "--today", "2026-03-12")
    assert data["finished"] == [] and data["since"] is not None
    # A flow re-run that marks a done stage done again did not finish it again.
    PlanningStore(db_url).set_state("alpha", Stage.RUSHES_RECEPTION, StageState.DONE, note="re-run")
    code, data = postprod_json(capsys, monkeypatch, "plan", "digest", "--out", str(page), "--today", "2026-03-12")
    assert data["finished"] == []


def _certificate(tmp: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    import ipaddress

    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(hours=1))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = tmp / "smtp.crt", tmp / "smtp.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def test_starttls_and_login(workspace: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                            capsys: pytest.CaptureFixture[str]) -> None:
    cert, key = _certificate(tmp_path)
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(cert, key)

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and auth_data.login == b"coord" and auth_data.password == b"s3cret"
        return AuthResult(success=ok, handled=False)  # handled=False: the server answers 535 itself

    box = Inbox()
    controller = Controller(box, hostname="127.0.0.1", port=free_port(), tls_context=tls, require_starttls=True,
                            authenticator=authenticator, auth_required=True)
    controller.start()
    try:
        with (workspace / "postprod.toml").open("a") as fh:
            fh.write(f'\n[smtp]\nhost = "127.0.0.1"\nport = {controller.port}\nfrom = "postprod@studio.test"\n'
                     f'to = ["coord@studio.test"]\nstarttls = true\nusername = "coord"\nca_file = "{cert}"\n')
        make_plans(f"sqlite:///{workspace / 'data' / 'postprod.db'}", workspace / "data" / "reports")
        monkeypatch.setenv("POSTPROD_SMTP__PASSWORD", "wrong")
        code, _out, err = postprod(capsys, monkeypatch, "plan", "digest", "--send", "--today", "2026-03-12")
        assert code == 2 and "refused the login of 'coord'" in " ".join(err.split()) and not box.messages
        monkeypatch.setenv("POSTPROD_SMTP__PASSWORD", "s3cret")
        code, _out, err = postprod(capsys, monkeypatch, "plan", "digest", "--send", "--today", "2026-03-12")
        assert code == 0, err
        assert len(box.messages) == 1
    finally:
        controller.stop()


def test_unreachable_smtp_server_is_a_message(workspace: Path, monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    port = free_port()
    with (workspace / "postprod.toml").open("a") as fh:
        fh.write(f'\n[smtp]\nhost = "127.0.0.1"\nport = {port}\nfrom = "a@b.test"\nto = ["c@d.test"]\ntimeout = 5\n')
    code, _out, err = postprod(capsys, monkeypatch, "plan", "digest", "--send")
    assert code == 2 and f"cannot reach the SMTP server 127.0.0.1:{port}" in " ".join(err.split())
