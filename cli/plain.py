"""What rich would print for a few simple views (lines of styled text, tables that fit), written without rich.

Importing rich's console and table costs about a fifth of `postprod plan status` and `postprod probe`, and its
rendering as much again, for tables whose layout is simple arithmetic once they fit the terminal. A view (`Txt`
pieces and `Grid` tables) is either written here, byte for byte as rich writes it (the same widths, padding, box,
ANSI codes on a terminal, none in a pipe), or, whenever anything is outside what this module knows (a table
wider than the terminal, a character whose width is not one cell, a style it does not know, a console made or
changed already, Jupyter, Windows...), handed to rich (`rich_renderables`): the same output, rich's way.
tests/cli/test_plain_render.py holds the two equal over many views, widths and terminal settings.
"""

from __future__ import annotations

import builtins
import os
import sys
from typing import Any

# Characters rich counts one cell wide and prints as they are: printable ASCII, Latin-1 and Latin Extended-A
# letters and signs, and the arrows and dashes our tables use (the test checks each against rich's cell_len).
_ONE_CELL = frozenset(
    [chr(c) for c in range(0x20, 0x7F)] + [chr(c) for c in range(0xA1, 0x180) if c != 0xAD]
    + list("→—–·…✓×"))

# SGR codes of the styles our views use, in rich's order (attributes, then the colour).
_ATTRIBUTES = {"bold": "1", "dim": "2", "italic": "3", "underline": "4"}
_COLOURS = {name: str(30 + i) for i, name in
            enumerate(("black", "red", "green", "yellow", "blue", "magenta", "cyan", "white"))}


# Plain classes, not dataclasses: making a dataclass costs a millisecond of each start.
class Txt:
    """A rich `Text`: pieces of (text, style) (style "" for none), and the style of the whole (padding too)."""

    __slots__ = ("parts", "style")

    def __init__(self, parts: tuple[tuple[str, str], ...], style: str = "") -> None:
        self.parts, self.style = parts, style

    @property
    def plain(self) -> str:
        return "".join(t for t, _ in self.parts)


def txt(*parts: str | tuple[str, str], style: str = "") -> Txt:
    return Txt(tuple((p, "") if isinstance(p, str) else p for p in parts if (p if isinstance(p, str) else p[0])),
               style)


class Col:
    """A rich table's column: `Table.add_column(header, justify=, min_width=, overflow=, no_wrap=)`."""

    __slots__ = ("header", "justify", "min_width", "overflow", "no_wrap")

    def __init__(self, header: str, justify: str = "left", min_width: int | None = None, overflow: str = "fold",
                 no_wrap: bool = False) -> None:
        self.header, self.justify, self.min_width, self.overflow, self.no_wrap = (header, justify, min_width,
                                                                                   overflow, no_wrap)


class Grid:
    """A rich `Table` with a header and no title: `box` "simple_head" (SIMPLE_HEAD) or "heavy_head" (rich's default)."""

    __slots__ = ("columns", "rows", "box", "pad_edge", "header_style")

    def __init__(self, columns: list[Col], rows: list[list[Txt]] | None = None, box: str = "heavy_head",
                 pad_edge: bool = True, header_style: str = "bold") -> None:
        self.columns, self.rows, self.box, self.pad_edge, self.header_style = (columns, rows or [], box, pad_edge,
                                                                                header_style)


# rich.box's characters: top, head, head_row, mid, row, foot_row, foot, bottom; each left, horizontal/space,
# divider, right (tests/cli/test_plain_render.py checks them against rich.box).
BOXES = {"simple_head": ("    ", "    ", " ── ", "    ", "    ", "    ", "    ", "    "),
         "heavy_head": ("┏━┳┓", "┃ ┃┃", "┡━╇┩", "│ ││", "├─┼┤", "├─┼┤", "│ ││", "└─┴┘")}


class Terminal:
    """What rich's Console would find: the width, whether it writes ANSI codes, and NO_COLOR."""

    __slots__ = ("width", "ansi", "no_color")

    def __init__(self, width: int, ansi: bool, no_color: bool) -> None:
        self.width, self.ansi, self.no_color = width, ansi, no_color

    def __repr__(self) -> str:
        return f"Terminal(width={self.width}, ansi={self.ansi}, no_color={self.no_color})"


def _fileno(stream: Any, default: int) -> int:
    try:
        return stream.fileno()
    except Exception:
        return default


def terminal(piped_width: int | None) -> Terminal | None:
    """rich's Console(width=piped_width if piped else None) as cli/app.py makes it, on this process's stdout and
    environment (rich/console.py's is_terminal, is_dumb_terminal, _detect_color_system, size); None where this
    cannot tell (Windows, Jupyter, IDLE, a proxied or missing stdout, an encoding rich would print ASCII boxes in)."""
    file = sys.stdout
    if sys.platform == "win32" or "get_ipython" in vars(builtins) or file is None \
            or hasattr(file, "rich_proxied_file") or not hasattr(file, "isatty"):
        return None
    if hasattr(sys.stdin, "__module__") and sys.stdin.__module__.startswith("idlelib"):
        return None
    if not ((getattr(file, "encoding", "utf-8") or "utf-8").lower().startswith("utf")):
        return None
    env = os.environ
    try:
        piped = piped_width and not file.isatty() and not env.get("COLUMNS")
    except ValueError:
        return None
    width = piped_width if piped else None
    if width is None and (env.get("COLUMNS") or "x").isdigit():
        width = int(env["COLUMNS"])
    height = int(env["LINES"]) if (env.get("LINES") or "x").isdigit() else None
    tty = _is_terminal(file, env)
    dumb = tty and env.get("TERM", "").lower() in ("dumb", "unknown")
    if width is not None and height is not None:
        size = width
    elif dumb:
        size = 80
    elif width is not None:
        size = width
    else:
        size = _terminal_columns(env)
    return Terminal(width=size, ansi=tty and not dumb, no_color=env.get("NO_COLOR", "") != "")


def _is_terminal(file: Any, env: Any) -> bool:
    compatible = env.get("TTY_COMPATIBLE", "")
    if compatible in ("0", "1"):
        return compatible == "1"
    if env.get("FORCE_COLOR") is not None:
        return env["FORCE_COLOR"] != ""
    try:
        return bool(file.isatty())
    except ValueError:
        return False


def _terminal_columns(env: Any) -> int:
    width = None
    for fd in (_fileno(sys.__stdin__, 0), _fileno(sys.__stdout__, 1), _fileno(sys.__stderr__, 2)):
        try:
            width, _ = os.get_terminal_size(fd)
        except (AttributeError, ValueError, OSError):
            continue
        break
    if (env.get("COLUMNS") or "x").isdigit():
        width = int(env["COLUMNS"])
    return width or 80


class Declined(Exception):
    """The view holds something this module does not render as rich would: rich renders it."""


Segment = tuple[str, str]  # text, style ("" none); a line is a list of them
Line = list[Segment]


def _cells(text: str) -> int:
    if not _ONE_CELL.issuperset(text):
        raise Declined(f"a character of uncertain width in {text!r}")
    return len(text)


def _txt_lines(t: Txt) -> list[tuple[str, list[tuple[int, int, str]]]]:
    """The text's lines, each with the spans over it, in rich's order (the whole text's style first)."""
    plain = t.plain
    spans, offset = [], 0
    for text, style in t.parts:
        if style:
            spans.append((offset, offset + len(text), style))
        offset += len(text)
    lines, start = [], 0
    for line in plain.split("\n"):
        end = start + len(line)
        over = [(max(s, start) - start, min(e, end) - start, st) for s, e, st in spans if s < end and e > start]
        lines.append((line, over))
        start = end + 1
    return lines


def _segments(line: str, spans: list[tuple[int, int, str]]) -> Line:
    """rich's Text.render of one line: a segment between each two span boundaries, its style the combination."""
    cuts = sorted({0, len(line), *(s for s, _, _ in spans), *(e for _, e, _ in spans)})
    return [(line[a:b], " ".join(st for s, e, st in spans if s <= a and e >= b))
            for a, b in zip(cuts, cuts[1:], strict=False) if b > a]


def text_lines(t: Txt, width: int) -> list[Line]:
    """A Txt printed by itself, as rich prints it when every line fits the width."""
    out = []
    for line, spans in _txt_lines(t):
        if _cells(line) > width:
            raise Declined("a line to wrap")
        if t.style and line:
            spans = [(0, len(line), t.style), *spans]
        out.append(_segments(line, spans))
    return out


def _cell(t: Txt, width: int, justify: str) -> list[Line]:
    """A table cell's lines within its width (padding aside), justified as rich's Lines.justify does."""
    out = []
    for line, spans in _txt_lines(t):
        if justify == "right":
            stripped = line.rstrip()
            spans = [(s, min(e, len(stripped)), st) for s, e, st in spans if s < len(stripped)]
            pad = width - _cells(stripped)
            line = " " * pad + stripped
            spans = [(s + pad, e + pad, st) for s, e, st in spans]
        elif justify == "left":
            line = line + " " * (width - _cells(line))
        else:
            raise Declined(f"justify {justify}")
        if t.style and line:
            spans = [(0, len(line), t.style), *spans]
        out.append(_segments(line, spans))
    return out


def _styled(segments: Line, style: str) -> Line:
    return [(text, f"{style} {own}".strip()) for text, own in segments] if style else segments


def table_lines(grid: Grid, width: int) -> list[Line]:
    """A table as rich renders it when its natural width fits the console's (no column shrunk or wrapped)."""
    n = len(grid.columns)
    if not n:
        raise Declined("no column")
    pads = [((1 if (grid.pad_edge or i) else 0), (1 if (grid.pad_edge or i < n - 1) else 0)) for i in range(n)]
    available = width - (2 + n - 1)
    cells_of = [[Txt(((c.header, ""),)), *(row[i] if i < len(row) else Txt(()) for row in grid.rows)]
                for i, c in enumerate(grid.columns)]
    widths = []
    for col, (left, right), cells in zip(grid.columns, pads, cells_of, strict=True):
        natural = max(max(_cells(line) for line in t.plain.split("\n")) for t in cells) + left + right
        if col.min_width is not None:
            natural = max(natural, col.min_width + left + right)
        widths.append(natural or 1)
    if any(len(row) > n for row in grid.rows) or sum(widths) > available:
        raise Declined("a table wider than the console")
    top, head, head_row, mid, _, _, foot, bottom = BOXES[grid.box]
    lines: list[Line] = [[(top[0] + top[2].join(top[1] * w for w in widths) + top[3], "")]]
    for r in range(len(grid.rows) + 1):
        edge = head if r == 0 else foot if r == len(grid.rows) else mid
        rendered = []
        for col, (left, right), w, cells in zip(grid.columns, pads, widths, cells_of, strict=True):
            style = grid.header_style if r == 0 else ""
            inner = _cell(cells[r], w - left - right, col.justify)
            rendered.append([_styled([(" " * left, ""), *seg, (" " * right, "")], style) for seg in inner])
        height = max(len(c) for c in rendered)
        for c, w in zip(rendered, widths, strict=True):
            c.extend([[(" " * w, "")]] * (height - len(c)))
        for k in range(height):
            line: Line = [(edge[0], "")]
            for i, c in enumerate(rendered):
                line.extend(c[k])
                line.append((edge[2] if i < n - 1 else edge[3], ""))
            lines.append(line)
        if r == 0:
            lines.append([(head_row[0] + head_row[2].join(head_row[1] * w for w in widths) + head_row[3], "")])
    lines.append([(bottom[0] + bottom[2].join(bottom[1] * w for w in widths) + bottom[3], "")])
    return lines


def _sgr(style: str, no_color: bool) -> str:
    attributes, colour = [], None
    for word in style.split():
        if word in _ATTRIBUTES:
            attributes.append(word)
        elif word in _COLOURS:
            colour = word
        else:
            raise Declined(f"style {style!r}")
    codes = [_ATTRIBUTES[a] for a in _ATTRIBUTES if a in attributes]
    if colour and not no_color:
        codes.append(_COLOURS[colour])
    return ";".join(codes)


def render(view: list[Txt | Grid], term: Terminal) -> str:
    """The text rich's console.print of each part of `view` writes (Declined where this cannot be sure)."""
    chunks = []
    for part in view:
        lines = table_lines(part, term.width) if isinstance(part, Grid) else text_lines(part, term.width)
        for line in lines:
            for text, style in line:
                codes = _sgr(style, term.no_color) if style else ""
                chunks.append(f"\x1b[{codes}m{text}\x1b[0m" if codes and text and term.ansi else text)
            chunks.append("\n")
    return "".join(chunks)


def rich_renderables(view: list[Txt | Grid]) -> list[Any]:
    """The same view as rich objects, for rich to print (one each)."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    def text(t: Txt) -> Text:
        return Text.assemble(*t.parts, style=t.style)

    made: list[Any] = []
    for part in view:
        if isinstance(part, Txt):
            made.append(text(part))
            continue
        table = Table(box=box.SIMPLE_HEAD if part.box == "simple_head" else box.HEAVY_HEAD, pad_edge=part.pad_edge,
                      header_style=part.header_style)
        for c in part.columns:
            table.add_column(c.header, justify=c.justify, min_width=c.min_width, overflow=c.overflow,  # type: ignore[arg-type]
                             no_wrap=c.no_wrap)
        for row in part.rows:
            table.add_row(*(text(t) for t in row))
        made.append(table)
    return made


def show(view: list[Txt | Grid]) -> None:
    """Print the view on stdout as cli.app's `out` console would: here when it is sure to write the same, else
    through rich. Here only while `out` is not made yet (a console a test or a command changed is rich's)."""
    from cli.app import out

    term = None if getattr(out, "_console", True) is not None else terminal(getattr(out, "_piped_width", None))
    if term is not None:
        try:
            text = render(view, term)
        except Declined:
            pass
        else:
            sys.stdout.write(text)
            sys.stdout.flush()
            return
    for made in rich_renderables(view):
        out.print(made)
