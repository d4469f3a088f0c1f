"""Which files a process holds open for writing, as the OS tells it (Linux /proc, then a lease).

A copy that opened its file and paused (before its first byte, or in the middle) changes nothing that
a stat can see: only the open file table tells. Each /proc/<pid>/fd/<n> links to the open file, and
/proc/<pid>/fdinfo/<n> gives its open flags. Some processes cannot be looked at: another user's without
root, and, even for root, one in another user namespace or without CAP_SYS_PTRACE (a container's init,
a container's default capabilities). For the files /proc leaves unanswered then, the kernel is asked
directly: a read lease (fcntl F_SETLEASE) is refused while any process on this host holds the file open
for writing; it needs the file's owner or CAP_LEASE, and a local file system. What neither can tell is
said (`unknown`), never taken for "nobody". Writers on other hosts (NFS, SMB) are not seen: there, a
file that grows after its ingest is ingested again (ingest.py).
"""

from __future__ import annotations

import errno
import fcntl
import os
import signal
from collections.abc import Iterable
from dataclasses import dataclass, field

PROC = "/proc"
UNKNOWN_PID = 0  # a writer the lease proved, whose process /proc did not show
F_SETLEASE = getattr(fcntl, "F_SETLEASE", 1024)
F_SETSIG = getattr(fcntl, "F_SETSIG", 10)


@dataclass
class Writers:
    pids: dict[str, int] = field(default_factory=dict)  # path (as asked) -> a pid holding it open for writing
    unknown: set[str] = field(default_factory=set)  # paths nothing could answer for (see the module doc)

    @property
    def complete(self) -> bool:
        return not self.unknown


def open_for_writing(paths: Iterable[str], proc: str = PROC) -> Writers:
    """The given files that some process on this host holds open for writing."""
    wanted = {os.path.realpath(p): p for p in paths}
    result = Writers()
    if not wanted:
        return result
    hidden = _scan(wanted, result, proc)
    if hidden:
        for path in wanted.values():
            if path not in result.pids:
                held = _lease_refused(path)
                if held is None:
                    result.unknown.add(path)
                elif held:
                    result.pids[path] = UNKNOWN_PID
    return result


def _scan(wanted: dict[str, str], result: Writers, proc: str) -> bool:
    """Fill `result.pids` from /proc; whether some process could not be looked at."""
    try:
        pids = [d for d in os.listdir(proc) if d.isdigit()]
    except OSError:
        return True
    hidden = False
    for pid in pids:
        fd_dir = os.path.join(proc, pid, "fd")
        try:
            fds = os.listdir(fd_dir)
        except PermissionError:
            hidden = True
            continue
        except OSError:  # the process ended meanwhile
            continue
        for fd in fds:
            try:
                target = os.readlink(os.path.join(fd_dir, fd))
            except PermissionError:  # listed but not readable (no CAP_SYS_PTRACE over it)
                hidden = True
                break
            except OSError:  # closed meanwhile
                continue
            if target in wanted and _writes(os.path.join(proc, pid, "fdinfo", fd)):
                result.pids[wanted[target]] = int(pid)
    return hidden


def _lease_refused(path: str) -> bool | None:
    """True when some process holds the file open for writing, False when none does, None when the kernel
    will not say (not the file's owner without CAP_LEASE, a file system without leases, gone)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY)
    except OSError:
        return None
    try:
        # A writer opening the file in the instant the lease is held breaks it, and the kernel signals the
        # holder: SIGIO by default, whose default action ends the process. SIGURG's is to be ignored.
        fcntl.fcntl(fd, F_SETSIG, signal.SIGURG)
        fcntl.fcntl(fd, F_SETLEASE, fcntl.F_RDLCK)
    except OSError as exc:
        return True if exc.errno == errno.EAGAIN else None
    else:
        fcntl.fcntl(fd, F_SETLEASE, fcntl.F_UNLCK)
        return False
    finally:
        os.close(fd)


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
