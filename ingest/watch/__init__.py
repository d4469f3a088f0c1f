"""Watch folders: ingest each card or loose file once its copy has ended (docs/watch.md).

mounts.py says what is watched and whether it is there; sources.py turns inotify and polling into events;
tracker.py keeps the file states and readiness.py decides, as pure rules, when a unit is complete;
jobs.py runs the ingests; supervisor.py is the run loop that ties them together.
"""

from ingest.watch.jobs import IngestJob, JobResult, RunSummary, Trigger
from ingest.watch.mounts import Folder, folders_to_watch, network_filesystem
from ingest.watch.supervisor import Watcher

__all__ = ["Folder", "IngestJob", "JobResult", "RunSummary", "Trigger", "Watcher", "folders_to_watch",
           "network_filesystem"]
