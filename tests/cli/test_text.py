"""User strings on the terminal: markup shown as written, control characters and undecodable bytes visible."""

from __future__ import annotations

import io
import os

from rich.console import Console

from cli.text import escape, visible


def _printed(markup: str) -> str:
    buf = io.StringIO()
    Console(file=buf, width=200, highlight=False).print(markup)
    return buf.getvalue().rstrip("\n")


def test_names_print_as_written() -> None:
    for name in ("[bold]take.mov", "clip [final].mov", "A001[/b]take.mov", "back\\", "[link=https:x]c[/link]"):
        assert _printed(f"[bold]{escape(name)}[/]") == name  # inside markup, as the commands print them


def test_control_characters_and_bytes_are_shown_not_obeyed() -> None:
    assert visible("bell\x07\x1b[31mred.mov") == "bell\\x07\\x1b[31mred.mov"
    assert visible("take\nnew\tline") == "take\\nnew\\tline"
    assert visible(os.fsdecode(b"bad\xff\xfe.mov")) == "bad\\xff\\xfe.mov"
    assert "\x1b" not in _printed(escape("\x1b[2J[red]x"))
    assert escape("subject\nDigest: [x].html", lines=True).split("\n") == ["subject", "Digest: \\[x].html"]


def test_emoji_codes_in_names_print_as_written(capsys) -> None:  # type: ignore[no-untyped-def]
    from cli.app import err, out

    for console in (out, err):
        console.print(f"[bold]{escape('A001:fire:.mov')}[/] :warning:")
    printed = capsys.readouterr()
    assert printed.out.strip() == printed.err.strip() == "A001:fire:.mov :warning:"

