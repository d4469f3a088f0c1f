"""What the chosen ffmpeg can do, read once per executable (kept on disk, caps_store.py), and which ffmpeg runs a job.

postprod supports ffmpeg 5.1 (Debian 12), 6.1 (Ubuntu 24.04), 7.1 (Debian 13) and the build bundled with
it (imageio-ffmpeg). Rather than trusting version numbers, it reads what this ffmpeg has: its filters,
its encoders and the few options whose absence changes a command. Where something is missing:

- an equivalent that measures the same is used (5.1's ebur128 has no `framelog=quiet`; with `metadata=1`
  it logs each frame at the verbose level, which our `-loglevel error` already hides: tests/qc proves the
  two give the same figures on the same file);
- else the job runs with the bundled ffmpeg, said once per process, naming the version found and what it
  lacks;
- an ffmpeg set explicitly in the settings (or POSTPROD_FFMPEG) that lacks something needed is an error
  naming what is missing: the user chose it, we do not quietly run another.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from config.errors import ToolError
from config.tools import bundled_ffmpeg, find_ffmpeg
from media.ffmpeg import caps_store

SUPPORTED = "5.1, 6.1, 7.1 and the bundled build"


class Job(StrEnum):
    """The steps that run ffmpeg: messages name them."""

    DECODE_CHECK = "decode check"
    PROXY_ENCODE = "proxy encode"
    QC_ANALYSIS = "QC analysis"
    MEDIA_SYNTH = "test media"


# Filters each job's command uses (media/ffmpeg/commands.py builds them).
NEEDED_FILTERS: dict[Job, frozenset[str]] = {
    Job.DECODE_CHECK: frozenset(),
    Job.QC_ANALYSIS: frozenset({"scale", "format", "metadata", "crop", "extractplanes", "idet", "ebur128", "atrim",
                                "pan", "amerge", "aformat", "ametadata"}),
    Job.PROXY_ENCODE: frozenset({"scale", "setsar", "format", "drawbox", "drawtext", "bwdif", "asplit", "pan",
                                 "anull", "apad"}),
    Job.MEDIA_SYNTH: frozenset(),
}
# Output options (ffmpeg's own, not a filter's) each job's command uses.
NEEDED_OPTIONS: dict[Job, frozenset[str]] = {
    Job.DECODE_CHECK: frozenset({"sseof"}),
    Job.QC_ANALYSIS: frozenset({"fps_mode"}),
    Job.PROXY_ENCODE: frozenset({"fps_mode", "progress", "filter_complex_threads"}),
    Job.MEDIA_SYNTH: frozenset(),
}


@dataclass(frozen=True)
class Capabilities:
    """One ffmpeg executable as it is: version, filters, encoders, the options and option values we check."""

    path: str
    version: str  # as ffmpeg prints it: "5.1.9-0+deb12u1", "n7.1", "N-113000-g..."
    release: tuple[int, int] | None  # (5, 1); None for a git snapshot
    filters: frozenset[str]
    encoders: frozenset[str]
    options: frozenset[str]  # ffmpeg's own options we rely on, those it has: "fps_mode", "sseof"...
    ebur128_framelog_quiet: bool  # ebur128's framelog=quiet (6.0 on); else leave framelog out

    def lacks(self, job: Job, encoders: tuple[str, ...] = ()) -> list[str]:
        """What this ffmpeg lacks for `job` that no equivalent replaces, in words."""
        missing = [f"the {f} filter" for f in sorted(NEEDED_FILTERS[job] - self.filters)]
        missing += [f"the -{o} option" for o in sorted(NEEDED_OPTIONS[job] - self.options)]
        missing += [f"the {e} encoder" for e in encoders if e not in self.encoders]
        return missing

    def describe(self) -> str:
        return f"ffmpeg {self.version} ({self.path})"


_VERSION_RE = re.compile(r"ffmpeg version (\S+)")
_RELEASE_RE = re.compile(r"^n?(\d+)\.(\d+)")
_OPTIONS = ("fps_mode", "sseof", "progress", "filter_complex_threads")


def _run(ffmpeg: str, *args: str) -> str:
    """What ffmpeg says to `args`; a run that failed or was stopped is an error, never an empty answer
    (an empty filter list read as "lacks every filter" would be kept for the process, and on disk)."""
    try:
        proc = subprocess.run([ffmpeg, "-hide_banner", *args], capture_output=True, text=True, errors="replace",
                              timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ToolError(f"cannot run ffmpeg ({ffmpeg}): {exc}") from exc
    said = proc.stdout + proc.stderr
    if proc.returncode != 0:
        how = f"was stopped by signal {-proc.returncode}" if proc.returncode < 0 else f"exited {proc.returncode}"
        last = next((ln.strip() for ln in reversed(said.splitlines()) if ln.strip()), "no message")
        raise ToolError(f"cannot read what ffmpeg can do: `{ffmpeg} {' '.join(args)}` {how} ({last})")
    return said


def _names(listing: str, min_fields: int) -> frozenset[str]:
    """Second column of `-filters` / `-encoders` listings (after the flags column and the legend)."""
    names = set()
    for line in listing.splitlines():
        parts = line.split()
        if len(parts) >= min_fields and re.fullmatch(r"[A-Z.|]{2,6}", parts[0]) and parts[1] != "=":
            names.add(parts[1])
    return frozenset(names)


def _query(path: str) -> dict[str, Any]:
    """Ask ffmpeg: the fields of Capabilities (less `path`). Raises ToolError on any failed run."""
    # Five short ffmpeg runs, side by side: each is mostly ffmpeg's own start (loading its libraries). Rare (the
    # answers are kept on disk): the pool's modules load only then.
    from concurrent.futures import ThreadPoolExecutor

    queries = {"version": ("-version",), "long": ("-h", "long"), "ebur128": ("-h", "filter=ebur128"),
               "filters": ("-filters",), "encoders": ("-encoders",)}
    with ThreadPoolExecutor(max_workers=len(queries)) as pool:
        said = dict(zip(queries, pool.map(lambda args: _run(path, *args), queries.values()), strict=True))
    match = _VERSION_RE.search(said["version"])
    version = match.group(1) if match else "unknown"
    rel = _RELEASE_RE.match(version)
    filters = _names(said["filters"], 3)
    if not filters:
        raise ToolError(f"cannot read what ffmpeg can do: `{path} -filters` listed no filter")
    return {"version": version, "release": (int(rel.group(1)), int(rel.group(2))) if rel else None,
            "filters": filters, "encoders": _names(said["encoders"], 3),
            "options": frozenset(o for o in _OPTIONS if re.search(rf"^-{o}\b", said["long"], re.MULTILINE)),
            "ebur128_framelog_quiet": re.search(r"^\s+quiet\s+-8\b", said["ebur128"], re.MULTILINE) is not None}


_read: dict[tuple[str, caps_store.Key], Capabilities] = {}  # this process's readings


def capabilities(ffmpeg: str) -> Capabilities:
    """This ffmpeg's capabilities: from this process's memory, else the disk cache, else ffmpeg itself.

    Keyed by the executable's real path, size and modification time: a changed ffmpeg is read again.
    """
    try:
        key = caps_store.key_of(ffmpeg)
    except OSError as exc:
        raise ToolError(f"cannot run ffmpeg ({ffmpeg}): {exc.strerror or exc}") from exc
    known = _read.get((ffmpeg, key))
    if known is None:
        fields = caps_store.load(key)
        if fields is None:
            fields = _query(ffmpeg)  # raises on a failed run: nothing is kept then
            caps_store.save(key, fields)
        known = _read[(ffmpeg, key)] = Capabilities(path=ffmpeg, **fields)
    return known


_said: set[tuple[str, Job, tuple[str, ...]]] = set()


def ffmpeg_for(job: Job, configured: str | None = None, *, encoders: tuple[str, ...] = ()) -> Capabilities:
    """The ffmpeg that runs `job`: the configured one, else the one on PATH, else the bundled one.

    `configured` is the settings' `ffmpeg` (POSTPROD_FFMPEG): chosen explicitly, so lacking something needed
    is an error. The one found on PATH lacking something gives way to the bundled build, said once.
    """
    chosen = capabilities(find_ffmpeg(configured))
    missing = chosen.lacks(job, encoders)
    if not missing:
        return chosen
    if configured:
        raise ToolError(f"the ffmpeg set in settings, {chosen.describe()}, cannot do the {job}: it lacks "
                        f"{', '.join(missing)} (postprod supports ffmpeg {SUPPORTED})")
    bundled = capabilities(bundled_ffmpeg())
    if bundled.lacks(job, encoders):
        raise ToolError(f"no ffmpeg here can do the {job}: {chosen.describe()} lacks {', '.join(missing)}, "
                        f"and so does the bundled build")
    key = (chosen.path, job, tuple(missing))
    if key not in _said:
        _said.add(key)
        import logging  # here: only this notice needs it (a command start does not load it)

        logging.getLogger("postprod.ffmpeg").warning("%s lacks %s: the %s runs with the bundled ffmpeg %s",
                                                     chosen.describe(), ", ".join(missing), job, bundled.version)
    return bundled
