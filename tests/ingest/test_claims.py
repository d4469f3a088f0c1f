"""One ingest per card at a time: the claim waits for its holder, on SQLite (a lock file) and on PostgreSQL
(an advisory lock, which is what several storage servers sharing one catalogue rely on)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import db_fixtures

from ingest.catalogue import Catalogue
from ingest.claims import card_claim

db_url, pg_server = db_fixtures.db_url, db_fixtures.pg_server
ROOT = Path(__file__).resolve().parents[2]


def _claim_in_thread(catalogue: Catalogue, data: Path, card: Path) -> tuple[threading.Event, threading.Event]:
    """Claim `card` in a thread; returns (claimed, release): set `release` to let the claim go."""
    claimed, release = threading.Event(), threading.Event()

    def hold() -> None:
        with card_claim(catalogue, data, "prod", card):
            claimed.set()
            release.wait(60)

    threading.Thread(target=hold, daemon=True).start()
    return claimed, release


def test_a_second_claim_of_a_card_waits_for_the_first(db_url, tmp_path):
    catalogue = Catalogue(db_url)
    card, other = tmp_path / "A001", tmp_path / "A002"
    card.mkdir()
    other.mkdir()
    first, release_first = _claim_in_thread(catalogue, tmp_path, card)
    assert first.wait(30)
    second, release_second = _claim_in_thread(Catalogue(db_url), tmp_path, card)
    elsewhere, release_elsewhere = _claim_in_thread(catalogue, tmp_path, other)
    assert elsewhere.wait(30), "another card is not held up"
    assert not second.wait(0.5), "two ingests of one card at once"
    release_first.set()
    assert second.wait(30), "the claim was not handed on when the first ingest ended"
    release_second.set()
    release_elsewhere.set()


def test_a_killed_ingest_lets_go_of_its_card(db_url, tmp_path):
    # A storage server's ingest killed outright (SIGKILL, a crash): its claim goes with it (the connection
    # closes, or the lock file's flock is dropped), and the next ingest of the card does not wait forever.
    card = tmp_path / "A001"
    card.mkdir()
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time\nfrom pathlib import Path\nfrom ingest.catalogue import Catalogue\n"
         "from ingest.claims import card_claim\n"
         "with card_claim(Catalogue(sys.argv[1]), Path(sys.argv[2]), 'prod', Path(sys.argv[3])):\n"
         "    print('held', flush=True)\n    time.sleep(120)\n",
         db_url, str(tmp_path), str(card)],
        stdout=subprocess.PIPE, text=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        claimed, release = _claim_in_thread(Catalogue(db_url), tmp_path, card)
        assert not claimed.wait(0.5), "claimed while another process holds the card"
        holder.send_signal(signal.SIGKILL)
        holder.wait(30)
        assert claimed.wait(30), "a killed ingest kept its card"
        release.set()
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()
