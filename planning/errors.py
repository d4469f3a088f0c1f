"""The planning's own error (no database code here: the quote and the store's readers import it)."""

from __future__ import annotations

from config.errors import PostprodError


class PlanError(PostprodError):
    """A planning request that cannot be done (no plan, unknown stage, plan already made)."""
