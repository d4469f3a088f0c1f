"""Which run a command is recording (flows/history.py) and which of its steps is running: where an artifact
made by a step (flows/publish.py) belongs. Imports nothing, so that both can use it."""

from __future__ import annotations

import contextvars
from typing import Any

current_run: contextvars.ContextVar[Any] = contextvars.ContextVar("postprod_run", default=None)
current_task: contextvars.ContextVar[str | None] = contextvars.ContextVar("postprod_task", default=None)
