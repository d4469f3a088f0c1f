"""The clips under one name that may cover an event, as the catalogue index hands them to matching.

`Candidates` is a plain list of them (those that may cover the event's source range, in catalogue order) that
also knows how to give every clip under the name (`whole()`), for the rules that need them all. `Deferred` is
the same list selected only when it is first read: a SelectedIndex (conform/index.py) does not select the rows
of an event's reel when a file or clip name already covers the event, since matching then never reads the
reel's list (a name is more specific: conform/match.py's `_choose` stops at the first that covers).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from conform.index import CatalogueClip


class Candidates(list):
    """The clips under one name that may cover an event's source range (all that overlap it, in catalogue
    order); `whole()` gives every clip under the name, for the rules that need them all (no clip covers it)."""

    def __init__(self, clips: Iterable[CatalogueClip], whole: Callable[[], list[CatalogueClip]]) -> None:
        super().__init__(clips)
        self.whole = whole


class Deferred(Candidates):
    """Candidates selected at their first read (`load` gives the clips): any read or change of the list, by any
    list method, loads it first, so that it holds what a Candidates made at once would hold."""

    def __init__(self, load: Callable[[], list[CatalogueClip]], whole: Callable[[], list[CatalogueClip]]) -> None:
        super().__init__((), whole)
        self._load: Callable[[], list[CatalogueClip]] | None = load

    @property
    def loaded(self) -> bool:
        return self._load is None

    def _fill(self) -> None:
        load = self._load
        if load is not None:
            self._load = None
            list.extend(self, load())


def _loading(name: str) -> Callable[..., Any]:
    method = getattr(list, name)

    def loaded_first(self: Deferred, *args: Any, **kwargs: Any) -> Any:
        self._fill()
        return method(self, *args, **kwargs)

    loaded_first.__name__ = name
    return loaded_first


# Every method of list that reads or changes its items (a list's truth is its __len__; `list(x)`, `sorted(x)`,
# `[*x]` and `for` read a subclass through __iter__).
for _name in ("__iter__", "__len__", "__getitem__", "__contains__", "__reversed__", "__eq__", "__ne__", "__lt__",
              "__le__", "__gt__", "__ge__", "__add__", "__mul__", "__rmul__", "__iadd__", "__imul__", "__repr__",
              "__setitem__", "__delitem__", "__reduce_ex__", "copy", "count", "index", "append", "extend", "insert",
              "pop", "remove", "reverse", "sort", "clear"):
    setattr(Deferred, _name, _loading(_name))
del _name


def whole(candidates: list[CatalogueClip]) -> list[CatalogueClip]:
    """Every clip under the name (a Candidates list holds only those that may cover the event)."""
    return candidates.whole() if isinstance(candidates, Candidates) else candidates
