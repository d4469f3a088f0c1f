"""User strings made safe for the terminal: rich markup escaped, control characters shown, not obeyed.

A file name can hold `[bold]` (rich markup), `[/b]` (a closing tag rich cannot match: an exception) or
ESC sequences that would recolour or rewrite the user's terminal; each is shown as written instead.
"""

from __future__ import annotations

import re

from rich.markup import escape as _escape_markup

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_NAMED = {"\n": "\\n", "\t": "\\t", "\r": "\\r"}


def visible(text: str) -> str:
    """Control characters as escapes (a newline as \\n, ESC as \\x1b): a name stays on its line."""
    return _CONTROL.sub(lambda m: _NAMED.get(m.group(), f"\\x{ord(m.group()):02x}"), text)


def escape(text: str, *, lines: bool = False) -> str:
    """A user string for console.print with markup on: no markup, no control characters (with `lines`,
    a message of several lines keeps its line breaks)."""
    if lines:
        return "\n".join(escape(line) for line in str(text).split("\n"))
    return _escape_markup(visible(str(text)))
