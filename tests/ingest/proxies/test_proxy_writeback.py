"""The proxy's writing to disk is started as ffmpeg writes it (ingest/proxies/encode.py start_writeback: Linux's
sync_file_range, no wait), so the fsync of its rows' commit finds little left to write. It changes no byte, and the
durability stays the commit's. (How much sooner the data is on disk depends on the disk: not tested here.)"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import ingest.proxies.encode as encode


def test_writeback_starts_on_linux_and_changes_no_byte(tmp_path: Path) -> None:
    path = tmp_path / "proxy.part"
    data = os.urandom(3 << 20)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)  # as config/locks.create_locked opens it
    try:
        os.write(fd, data)
        if sys.platform == "linux":
            assert encode._SYNC_FILE_RANGE is not None
            assert encode._SYNC_FILE_RANGE(fd, 0, 0, encode.SYNC_FILE_RANGE_WRITE) == 0  # the call's types are right
        encode.start_writeback(fd)
        os.write(fd, data[:100])  # written on after a writeback began
    finally:
        os.close(fd)
    assert path.read_bytes() == data + data[:100]
