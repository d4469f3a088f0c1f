"""What rich would print for a few simple views (lines of styled text, tables), written without rich.

Importing rich's console and table costs about a sixth of `postprod plan status` and `postprod probe`, and its
rendering a few percent more, for views whose layout is arithmetic: rich's own (a table's column widths, narrowed
as rich narrows them where it is wider than the terminal, words wrapped and folded as rich/_wrap.py does, rich's
boxes, padding and justification). A view (`Txt` lines and `Grid` tables) is either written here, byte for byte
as rich writes it (ANSI codes on a terminal, none in a pipe), or, whenever anything is outside what this module
knows (a table that would not fit however narrowed, a character whose width is not one cell, a style it does not
know, a console made or changed already, Jupyter, Windows...), handed to rich (`rich_renderables`): the same
output, rich's way. tests/cli/test_plain_render.py holds the two equal over many generated views and terminals.
"""

from __future__ import annotations

import builtins
import os
import re
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


Spans = list[tuple[int, int, str]]
_WORD = re.compile(r"\s*\S+\s*")


def _clip(spans: Spans, start: int, end: int) -> Spans:
    """The spans over text[start:end], from its start (rich's Text.divide, right_crop and _trim_spans)."""
    return [(max(s, start) - start, min(e, end) - start, st) for s, e, st in spans if s < end and e > start]


def _divide_line(line: str, width: int, fold: bool) -> list[int]:
    """rich/_wrap.py's divide_line, for text of one-cell characters: where a line breaks to fit `width`."""
    breaks, offset = [], 0
    for match in _WORD.finditer(line):
        start, word = match.start(), match.group()
        length = len(word.rstrip())
        if width - offset >= length:
            offset += len(word)
        elif length > width:
            if fold:
                chunks = [word[i:i + width] for i in range(0, len(word), width)]
                for i, chunk in enumerate(chunks):
                    if start:
                        breaks.append(start)
                    if i == len(chunks) - 1:
                        offset = len(chunk)
                    else:
                        start += len(chunk)
            else:
                if start:
                    breaks.append(start)
                offset = len(word)
        elif offset and start:
            breaks.append(start)
            offset = len(word)
    return breaks


def _truncate(line: str, spans: Spans, width: int, overflow: str, pad: bool = False) -> tuple[str, Spans]:
    """rich's Text.truncate."""
    length = len(line)
    if length > width:
        line = line[:width - 1] + "…" if overflow == "ellipsis" else line[:width]
        spans = _clip(spans, 0, len(line))
    if pad and length < width:
        line += " " * (width - length)
    return line, spans


def _wrapped(line: str, spans: Spans, width: int, fold: bool) -> list[tuple[str, Spans]]:
    """rich's Text.wrap of one line: broken between words (words longer than the width folded, if `fold`), the
    whitespace past the width dropped (rstrip_end)."""
    cuts = [0, *_divide_line(line, width, fold), len(line)]
    pieces = []
    for a, b in zip(cuts, cuts[1:], strict=False):
        piece, over = line[a:b], _clip(spans, a, b)
        if len(piece) > width:
            cut = min(len(piece) - len(piece.rstrip()), len(piece) - width)
            piece, over = piece[:len(piece) - cut], _clip(over, 0, len(piece) - cut)
        pieces.append((piece, over))
    return pieces


def text_lines(t: Txt, width: int) -> list[Line]:
    """A Txt printed by itself, as rich prints it: each line wrapped at the width (justify "default",
    overflow "fold")."""
    out = []
    for line, spans in _txt_lines(t):
        _cells(line)
        for piece, over in _wrapped(line, spans, width, fold=True):
            piece, over = _truncate(piece, over, width, "fold")
            if t.style and piece:
                over = [(0, len(piece), t.style), *over]
            out.append(_segments(piece, over))
    return out


def _cell(t: Txt, width: int, col: Col) -> list[Line]:
    """A table cell's lines within its width (padding aside), as rich's Text.wrap makes them: words wrapped
    (folded where longer than the width) unless no_wrap, then justified and cut to the width."""
    if width < 1 or col.overflow not in ("fold", "ellipsis") or col.justify not in ("left", "right"):
        raise Declined("a cell rich would render another way")
    out = []
    for line, spans in _txt_lines(t):
        _cells(line)
        pieces = [(line, spans)] if col.no_wrap else _wrapped(line, spans, width, col.overflow == "fold")
        for piece, over in pieces:
            if col.justify == "left":
                piece, over = _truncate(piece, over, width, col.overflow, pad=True)
            else:
                stripped = piece.rstrip()
                piece, over = _truncate(stripped, _clip(over, 0, len(stripped)), width, col.overflow)
                shift = width - len(piece)
                piece, over = " " * shift + piece, [(s + shift, e + shift, st) for s, e, st in over]
            piece, over = _truncate(piece, over, width, col.overflow)
            if t.style and piece:
                over = [(0, len(piece), t.style), *over]
            out.append(_segments(piece, over))
    return out


def _column_width(maxima: list[int], room: int, pad: int, min_width: int | None) -> int:
    """rich's Table._measure_column's maximum: each cell's widest line measured within `room` with its padding."""
    if room < 1:
        return 0
    widths = []
    for widest in maxima:
        if room - pad < 1:
            cell = room
        else:
            inner = min(widest, room - pad)
            cell = min((inner if inner >= 1 else 0) + pad, room)
        widths.append(cell if cell >= 1 else 0)
    width = min(max(widths), room)
    return max(width, min_width + pad) if min_width is not None else width


def _ratio_reduce(total: int, ratios: list[int], maximums: list[int], values: list[int]) -> list[int]:
    """rich/_ratio.py's ratio_reduce."""
    ratios = [ratio if most else 0 for ratio, most in zip(ratios, maximums, strict=True)]
    total_ratio = sum(ratios)
    if not total_ratio:
        return values[:]
    remaining, result = total, []
    for ratio, most, value in zip(ratios, maximums, values, strict=True):
        if ratio and total_ratio > 0:
            distributed = min(most, round(ratio * remaining / total_ratio))
            result.append(value - distributed)
            remaining -= distributed
            total_ratio -= ratio
        else:
            result.append(value)
    return result


def _collapse(widths: list[int], wrapable: list[bool], room: int) -> list[int]:
    """rich's Table._collapse_widths: the widest wrapable columns narrowed, in turn, until the table fits."""
    total = sum(widths)
    excess = total - room
    if any(wrapable):
        while total and excess > 0:
            widest = max(w for w, can in zip(widths, wrapable, strict=True) if can)
            second = max(w if can and w != widest else 0 for w, can in zip(widths, wrapable, strict=True))
            difference = widest - second
            ratios = [1 if (w == widest and can) else 0 for w, can in zip(widths, wrapable, strict=True)]
            if not any(ratios) or not difference:
                break
            widths = _ratio_reduce(excess, ratios, [min(excess, difference)] * len(widths), widths)
            total = sum(widths)
            excess = total - room
    return widths


def _widths(grid: Grid, cells_of: list[list[Txt]], pads: list[tuple[int, int]], room: int) -> list[int]:
    """rich's Table._calculate_column_widths (no expand, no table min_width, no fixed column widths)."""
    maxima = [[max(_cells(line) for line in (t.plain.splitlines() or [""])) for t in cells] for cells in cells_of]
    widths = [_column_width(m, room, left + right, col.min_width) or 1
              for m, (left, right), col in zip(maxima, pads, grid.columns, strict=True)]
    if sum(widths) > room:
        widths = _collapse(widths, [not col.no_wrap for col in grid.columns], room)
        if sum(widths) > room:
            widths = _ratio_reduce(sum(widths) - room, [1] * len(widths), widths, widths)
        widths = [_column_width(m, w, left + right, col.min_width)
                  for m, w, (left, right), col in zip(maxima, widths, pads, grid.columns, strict=True)]
    if sum(widths) > room:
        raise Declined("a table wider than the console, even shrunk")
    return widths


def _styled(segments: Line, style: str) -> Line:
    return [(text, f"{style} {own}".strip()) for text, own in segments] if style else segments


def table_lines(grid: Grid, width: int) -> list[Line]:
    """A table as rich renders it: columns narrowed and their cells wrapped where it is wider than the console."""
    n = len(grid.columns)
    if not n:
        raise Declined("no column")
    pads = [((1 if (grid.pad_edge or i) else 0), (1 if (grid.pad_edge or i < n - 1) else 0)) for i in range(n)]
    available = width - (2 + n - 1)
    cells_of = [[Txt(((c.header, ""),)), *(row[i] if i < len(row) else Txt(()) for row in grid.rows)]
                for i, c in enumerate(grid.columns)]
    if any(len(row) > n for row in grid.rows):
        raise Declined("a row longer than the columns")
    widths = _widths(grid, cells_of, pads, available)
    top, head, head_row, mid, _, _, foot, bottom = BOXES[grid.box]
    lines: list[Line] = [[(top[0] + top[2].join(top[1] * w for w in widths) + top[3], "")]]
    for r in range(len(grid.rows) + 1):
        edge = head if r == 0 else foot if r == len(grid.rows) else mid
        rendered = []
        for col, (left, right), w, cells in zip(grid.columns, pads, widths, cells_of, strict=True):
            style = grid.header_style if r == 0 else ""
            inner = _cell(cells[r], w - left - right, col)
            rendered.append([_styled([(" " * left, ""), *seg, (" " * right, "")], style) for seg in inner])
        height = max(len(c) for c in rendered)
        for c, w in zip(rendered, widths, strict=True):  # rich aligns a header's cells to the bottom, others top
            blank = [[(" " * w, grid.header_style if r == 0 else "")]] * (height - len(c))
            c[:] = [*blank, *c] if r == 0 else [*c, *blank]
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
    if term.width < 1:
        raise Declined("no width")
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
    from cli.base import out

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
