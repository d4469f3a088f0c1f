"""Make data/catalogue-4f2fdfd.sqlite: a database written by postprod at commit 4f2fdfd, the last before the one
store (catalogue and proxy tables made by create_all, planning tables by migrations 0001-0002).

Run it with that commit's code, not this one's:
    git worktree add --detach /tmp/old 4f2fdfd
    cd /tmp/old && PYTHONPATH=/tmp/old /path/to/.venv/bin/python /path/to/tests/store/make_v0_catalogue.py OUT
It ingests a small card (two clips, one with a non-ASCII name, and a sidecar) with the h264-review proxies,
re-ingests it after touching a clip's bytes (a "changed" row), plans the production, and adds a session report.
"""

from __future__ import annotations

import sqlite3
import sys
import tempfile
from datetime import date
from fractions import Fraction
from pathlib import Path

SPEC = """schema_version = 1
name = "small"
description = "test-sized"
[video]
width = 160
height = 90
frame_rate = "25/1"
scan = "progressive"
codecs = ["ProRes", "VC-3", "AVC"]
[audio]
sample_rate = 48000
bit_depth = 24
codecs = ["PCM"]
[timecode]
required = true
"""


def main(out: Path) -> None:
    from config.settings import load_settings
    from config.tools import find_ffmpeg
    from flows.ingest import run_ingest
    from media.synth import ClipSpec, make_clip
    from planning import plan
    from planning.store import PlanningStore, SessionReport

    root = Path(tempfile.mkdtemp(prefix="pp-v0-"))
    (root / "small.toml").write_text(SPEC)
    (root / "postprod.toml").write_text('data_dir = "data"\n\n[productions.test]\nspec = "small.toml"\n'
                                        'handles = 12\nproxy_presets = ["h264-review"]\n')
    settings = load_settings(root / "postprod.toml")
    card = root / "A001"
    ffmpeg = find_ffmpeg()
    for name, tc in (("A001C001.mov", "10:00:00:00"), ("A001C002 été.mov", "10:01:00:00")):
        make_clip(card / "Clips" / name, ClipSpec(width=160, height=90, rate=Fraction(25), seconds=0.4,
                                                 timecode=tc, reel="A001", audio_channels=1), ffmpeg)
    (card / "Clips" / "A001C001.xml").write_text("<sidecar/>")
    run_ingest([str(card)], "test", settings)
    clip = card / "Clips" / "A001C001.mov"
    clip.write_bytes(clip.read_bytes()[:-4] + b"XXXX")
    run_ingest([str(card)], "test", settings)  # the changed clip: an error, the original row kept as "changed"
    store = PlanningStore(settings.db_url)
    plan.create(store, "test", "fiction", date(2026, 1, 5))
    store.add_reports([SessionReport(production="test", stage="grading", technician="Zoé", work_date=date(2026, 2, 2),
                                     minutes=90, done="first pass", incidents="LUT missing", source="cli")])
    db = settings.data_path / "postprod.db"
    out.unlink(missing_ok=True)
    with sqlite3.connect(db) as conn:
        conn.execute(f"VACUUM INTO '{out}'")  # one file, WAL folded in


if __name__ == "__main__":
    main(Path(sys.argv[1]).absolute())
