"""Two ingests that write a generation into one MHL folder at once (a watch folder's loose files, each its own
unit, share the inbox's history): each gets its own number, and the chain matches every file. Before the folder
lock, both read generation N-1, both wrote generation N under the same name in the same second, and the chain
then named the other writer's C4: every later ingest of that folder failed as "modified after it was written"."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from ingest import mhl


def test_generations_written_at_once_each_get_a_number_and_the_chain_holds(tmp_path):
    folder = tmp_path / "in" / mhl.MHL_FOLDER
    now = datetime(2026, 12, 1, 6, 36, 4, tzinfo=UTC)  # the same second for all: the same file name if unlocked
    writers = 8
    start = threading.Barrier(writers)
    errors: list[BaseException] = []

    def write(i: int) -> None:
        entry = mhl.Entry(path=f"loose_{i}.bin", size=i, mtime=now.timestamp(), hashes={"xxh128": f"{i:032x}"},
                          actions={})
        start.wait()
        try:
            mhl.write_generation(folder, "in", [entry], ["ascmhl"], tool_version="test", now=now)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(i,)) for i in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    history = mhl.read_history(folder)  # raises MHLError if a generation differs from the chain
    assert sorted(history.generations) == list(range(1, writers + 1))
    assert sorted(history.files) == sorted(f"loose_{i}.bin" for i in range(writers))
