"""Which files a process holds open for writing, as the OS tells it (Linux /proc).

A copy that opened its file and paused (before its first byte, or in the middle) changes nothing that
a stat can see: only the open file table tells. Each /proc/<pid>/fd/<n> links to the open file, and
/proc/<pid>/fdinfo/<n> gives its open flags. Writers on other hosts (NFS, SMB) are not seen: there,
a file that grows after its ingest is ingested again (ingest.py).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field

PROC = "/proc"


@dataclass
class Writers:
    pids: dict[str, int] = field(default_factory=dict)  # path (as asked) -> a pid holding it open for writing
    complete: bool = True  # False: some processes could not be looked at (another user's, without root)


def open_for_writing(paths: Iterable[str], proc: str = PROC) -> Writers:
    """The given files that some process on this host holds open for writing."""
    wanted = {os.path.realpath(p): p for p in paths}
    result = Writers()
    if not wanted:
        return result
    try:
        pids = [d for d in os.listdir(proc) if d.isdigit()]
    except OSError:
        return Writers(complete=False)
    for pid in pids:
        fd_dir = os.path.join(proc, pid, "fd")
        try:
            fds = os.listdir(fd_dir)
        except PermissionError:
            result.complete = False
            continue
        except OSError:  # the process ended meanwhile
            continue
        for fd in fds:
            try:
                target = os.readlink(os.path.join(fd_dir, fd))
            except OSError:
                continue
            if target in wanted and _writes(os.path.join(proc, pid, "fdinfo", fd)):
                result.pids[wanted[target]] = int(pid)
    return result


def _writes(fdinfo: str) -> bool:
    """Whether the descriptor was opened for writing (O_WRONLY or O_RDWR in its octal flags)."""
    try:
        with open(fdinfo, encoding="ascii", errors="replace") as fh:
            for line in fh:
                if line.startswith("flags:"):
                    return int(line.split()[1], 8) & (os.O_WRONLY | os.O_RDWR) != 0
    except (OSError, ValueError, IndexError):
        return False
    return False
