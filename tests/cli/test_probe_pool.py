"""`postprod probe` over a folder of many files: worker processes give the facts, in the order, of one by one."""

import shutil
from pathlib import Path

import pytest
from conftest import small_clip
from test_cli import run

import cli.commands.probe_run as probe_command
from media.synth import TakeSpec


def test_a_folder_probed_in_workers_matches_one_process(workspace: Path, make_media,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    card = workspace / "card"
    card.mkdir()
    sources = [make_media("pool.mov", small_clip(timecode="10:00:00:00", reel="A001")),
               make_media("pool.wav", TakeSpec(seconds=1.0)),
               make_media("pool.mxf", small_clip(codec="dnxhr_lb", width=640, height=360))]
    count = probe_command.POOL_FROM + 2
    for i in range(count):
        source = sources[i % len(sources)]
        shutil.copy(source, card / f"A001C{i:03d}{source.suffix}")
    (card / "A001C004.mov").write_bytes(b"not a clip\n" * 40)  # one bad file among them

    pooled = [m.model_dump(mode="json") for m in probe_command.probe_paths([card], None, "test")]
    monkeypatch.setattr(probe_command, "POOL_FROM", 10_000)  # the same folder in this process alone
    alone = [m.model_dump(mode="json") for m in probe_command.probe_paths([card], None, "test")]
    assert pooled == alone and len(pooled) == count + 1
    assert [m["error"] is not None for m in pooled].count(True) == 1
    assert {m["kind"] for m in pooled} == {"media", "unreadable"}

    table = run("probe", str(card), "--production", "test")
    assert f"{count + 1} files in " in table.stdout and "files/s" in table.stdout
