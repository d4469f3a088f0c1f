"""Typed rows' helpers that need no database code (store/base.py's Store loads SQLAlchemy; these do not)."""

from __future__ import annotations

from typing import Any


class ByKey:
    """Transitional, for code written when rows were dicts: `row["path"]` and `row.get("path")` read the field.
    New code reads attributes (`row.path`); this goes once nothing indexes rows by key."""

    __slots__ = ()

    def __getitem__(self, key: str) -> Any:
        if key not in self.__dataclass_fields__:  # type: ignore[attr-defined]
            raise KeyError(key)
        return getattr(self, key)

    def get(self, key: str, default: Any = None) -> Any:
        return getattr(self, key) if key in self.__dataclass_fields__ else default  # type: ignore[attr-defined]
