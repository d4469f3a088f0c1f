"""Where the ingest folders are, how each is watched, and whether each is there (unmounted shares).

Network file systems send no inotify events for changes made by other hosts: their folders are polled.
A folder is identified by (device, inode): when a share is mounted again, the watch has to be renewed.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

from config.errors import ConfigError, PostprodError
from config.settings import Settings

NETWORK_FILESYSTEMS = {"nfs", "nfs4", "cifs", "smb3", "smbfs", "fuse.sshfs", "9p", "afpfs", "fuse.rclone",
                       "davfs", "fuse.gvfsd-fuse", "glusterfs", "ceph", "fuse.ceph", "lustre", "beegfs"}


@dataclass(frozen=True)
class Folder:
    """An ingest folder of a production, watched with inotify (poll is None) or polled every `poll` seconds."""

    production: str
    path: str  # absolute, spelt as the ingest records it
    poll: float | None = None
    why_poll: str | None = None  # "--poll", "poll_folders", "nfs4 share", "inotify unavailable: ..."


def network_filesystem(path: str | Path, mounts_file: str = "/proc/self/mounts") -> str | None:
    """The file system type of the mount holding `path` when it is a network one (no inotify events there)."""
    target = os.path.realpath(path)
    best, fstype = "", None
    try:
        with open(mounts_file, encoding="utf-8", errors="replace") as fh:
            for line in fh:
                parts = line.split()
                if len(parts) < 3:
                    continue
                point = parts[1].replace("\\040", " ")
                inside = target == point or target.startswith(point.rstrip("/") + "/")
                if inside and len(point) >= len(best):
                    best, fstype = point, parts[2]
    except OSError:
        return None
    return fstype if fstype in NETWORK_FILESYSTEMS else None


def folders_to_watch(settings: Settings, production: str | None, poll: float | None = None) -> list[Folder]:
    """Every ingest folder of the production (or of all productions), and how each is watched."""
    if production:
        productions = [settings.production(production)]
    else:
        productions = [p for p in settings.productions.values() if p.ingest_folders]
    folders: list[Folder] = []
    owner: dict[str, str] = {}
    for prod in productions:
        ingest_paths = {os.path.abspath(p) for p in prod.ingest_folders}
        polled = {os.path.abspath(p) for p in prod.poll_folders}
        stray = sorted(polled - ingest_paths)
        if stray:
            raise ConfigError(None, f"productions.{prod.name}.poll_folders",
                              f"{stray[0]} is not one of the production's ingest_folders")
        for p in prod.ingest_folders:
            path = os.path.abspath(p)
            if path in owner:
                raise ConfigError(None, f"productions.{prod.name}.ingest_folders",
                                  f"{path} is also an ingest folder of production '{owner[path]}'")
            owner[path] = prod.name
            if poll is not None:
                folders.append(Folder(prod.name, path, poll, "--poll"))
            elif path in polled:
                folders.append(Folder(prod.name, path, settings.watch.poll_seconds, "poll_folders"))
            elif fs := network_filesystem(path):
                folders.append(Folder(prod.name, path, settings.watch.poll_seconds, f"{fs} share"))
            else:
                folders.append(Folder(prod.name, path))
    if not folders:
        which = f"production '{production}'" if production else "any production"
        raise PostprodError(f"no ingest folders configured for {which}: add ingest_folders = [...] under "
                            "[productions.NAME] in the settings file")
    return folders


def folder_state(path: str) -> tuple[tuple[int, int] | None, str | None]:
    """((device, inode), None) for a folder that is there and listable, else (None, why not)."""
    try:
        st = os.stat(path)
    except OSError as exc:
        return None, exc.strerror or str(exc)
    if not os.path.isdir(path):
        return None, "not a folder"
    if not os.access(path, os.R_OK | os.X_OK):
        return None, "permission denied (cannot list it)"
    return (st.st_dev, st.st_ino), None


class Change(Enum):
    GONE = "gone"
    BACK = "back"
    REMOUNTED = "remounted"  # there all along, but another folder now (mounted again, or replaced)


def is_mount_point(path: str, mounts_file: str = "/proc/self/mounts") -> bool:
    """Something is mounted on this folder (a bind mount of the same file system too: the mount table
    says so, the device numbers do not)."""
    target = os.path.realpath(path)
    try:
        with open(mounts_file, encoding="utf-8", errors="replace") as fh:
            return any(len(parts) > 2 and _unescape(parts[1]) == target for parts in map(str.split, fh))
    except OSError:
        return os.path.ismount(target)


def _unescape(field: str) -> str:
    """Mount points are written with octal escapes for blanks (\\040) and backslashes."""
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), field)


@dataclass
class FolderHealth:
    """Which folders are down and why, and the identity of those that are up.

    A folder that was a mount point and is not any more is down (the share was unmounted: what is left
    is the empty folder it was mounted on), until something is mounted there again.
    """

    down: dict[str, str] = field(default_factory=dict)
    identity: dict[str, tuple[int, int]] = field(default_factory=dict)
    mounted: dict[str, bool] = field(default_factory=dict)

    def check(self, path: str) -> tuple[Change | None, str | None]:
        """Look at the folder again: what changed since the last look (and why it is down)."""
        ident, why = folder_state(path)
        if ident is not None:
            mount = is_mount_point(path)
            if self.mounted.setdefault(path, mount) and not mount:
                ident, why = None, "unmounted (the share is not mounted on it any more)"
            elif mount:
                self.mounted[path] = True
        if ident is None:
            if path in self.down:
                return None, self.down[path]
            self.down[path] = why or "unavailable"
            return Change.GONE, self.down[path]
        known = self.identity.get(path)
        self.identity[path] = ident
        if path in self.down:
            del self.down[path]
            return Change.BACK, None
        if known not in (None, ident):
            return Change.REMOUNTED, None
        return None, None

    def still_there(self, path: str) -> bool:
        """The folder is up and is the one last seen (a look, without recording any change)."""
        if path in self.down:
            return False
        ident, _ = folder_state(path)
        if ident is None or ident != self.identity.get(path, ident):
            return False
        return not self.mounted.get(path) or is_mount_point(path)

    def is_down(self, path: str) -> bool:
        return path in self.down
