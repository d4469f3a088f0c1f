"""User strings made safe for the terminal: rich markup escaped, control characters shown, not obeyed.

A file name can hold `[bold]` (rich markup), `[/b]` (a closing tag rich cannot match: an exception) or
ESC sequences that would recolour or rewrite the user's terminal; each is shown as written instead.
"""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\udc80-\udcff]")
_NAMED = {"\n": "\\n", "\t": "\\t", "\r": "\\r"}


def visible(text: str, *, lines: bool = False) -> str:
    """Control characters as escapes (a newline as \\n, ESC as \\x1b), and the bytes of a name that is not
    UTF-8 (held by Python as surrogates) as \\xNN: a name stays on its line and reads as it is on disk."""
    if lines:  # a message of several lines keeps its line breaks
        return "\n".join(_CONTROL.sub(_shown, line) for line in text.split("\n"))
    return _CONTROL.sub(_shown, text)


def _shown(match: re.Match[str]) -> str:
    char = match.group()
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code - 0xDC00 if code >= 0xDC80 else code:02x}"  # a byte of a non-UTF-8 name as \xNN


def escape(text: str, *, lines: bool = False) -> str:
    """A user string for console.print with markup on: no markup, no control characters (with `lines`,
    a message of several lines keeps its line breaks)."""
    if lines:
        return "\n".join(escape(line) for line in str(text).split("\n"))
    from rich.markup import escape as escape_markup  # here: `--json` and `--help` do not load rich

    return escape_markup(visible(str(text)))
