"""cli/plain.py writes, byte for byte, what rich writes for the same view (or declines and lets rich write it):
over many generated views and terminals, and end to end for `plan status` and `probe` on real plans and real
clips, against the rich code those commands had before (kept here verbatim as the reference)."""

from __future__ import annotations

import io
import random
import re
import shutil
import sys
from pathlib import Path

import pytest
from conftest import small_clip
from rich import box as rich_box
from rich.cells import cell_len
from rich.text import Text

import cli.app
from cli import plain

TERMINAL_VARS = ("FORCE_COLOR", "NO_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "COLUMNS", "LINES", "TERM",
                 "COLORTERM", "JUPYTER_COLUMNS", "JUPYTER_LINES")
# (stdout is a terminal, environment): pipes, terminals, forced colours, NO_COLOR, dumb terminals, odd values
TERMINALS = [
    (False, {}), (False, {"COLUMNS": "100"}), (True, {"COLUMNS": "200"}), (True, {"COLUMNS": "90", "LINES": "30"}),
    (True, {}), (False, {"FORCE_COLOR": "1"}), (False, {"FORCE_COLOR": "1", "COLUMNS": "120"}),
    (True, {"NO_COLOR": "1", "COLUMNS": "150"}), (False, {"TTY_COMPATIBLE": "1", "NO_COLOR": "x"}),
    (True, {"TTY_COMPATIBLE": "0", "COLUMNS": "100"}), (True, {"FORCE_COLOR": "", "COLUMNS": "180"}),
    (True, {"TERM": "dumb"}), (False, {"TERM": "unknown", "FORCE_COLOR": "1", "LINES": "40", "COLUMNS": "300"}),
    (True, {"TERM": "xterm-256color", "COLUMNS": "220"}), (True, {"COLORTERM": "truecolor", "COLUMNS": "160"}),
    (False, {"COLUMNS": "abc"}), (True, {"COLUMNS": "0"}),
]


class _Device(io.BytesIO):
    def __init__(self, tty: bool) -> None:
        super().__init__()
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


def _stdout(monkeypatch: pytest.MonkeyPatch, tty: bool, env: dict[str, str]) -> io.TextIOWrapper:
    """stdout as a terminal or a pipe (UTF-8), and the terminal's variables as given, the others unset."""
    for name in TERMINAL_VARS:
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    stream = io.TextIOWrapper(_Device(tty), encoding="utf-8", write_through=True)
    monkeypatch.setattr(sys, "stdout", stream)
    return stream


def _written(stream: io.TextIOWrapper) -> str:
    stream.flush()
    return stream.buffer.getvalue().decode("utf-8")  # type: ignore[attr-defined]


def _console():  # type: ignore[no-untyped-def]
    """A console as cli/app.py makes `out` (the same options), fresh."""
    return cli.app._LazyConsole(**cli.app.out._options, piped_width=cli.app.out._piped_width)


def _by_rich(view: list[plain.Txt | plain.Grid]) -> str:
    console = _console()
    for made in plain.rich_renderables(view):
        console.print(made)
    return _written(sys.stdout)  # type: ignore[arg-type]


def test_every_one_cell_character_is_one_cell_to_rich() -> None:
    for char in plain._ONE_CELL:
        assert cell_len(char) == 1 and Text(char).plain == char, repr(char)


def test_boxes_are_rich_boxes() -> None:
    for name, box in (("simple_head", rich_box.SIMPLE_HEAD), ("heavy_head", rich_box.HEAVY_HEAD)):
        assert [line for line in str(box).split("\n") if line] == list(plain.BOXES[name])


@pytest.mark.parametrize(("tty", "env"), TERMINALS)
def test_terminal_is_what_rich_finds(monkeypatch: pytest.MonkeyPatch, tty: bool, env: dict[str, str]) -> None:
    _stdout(monkeypatch, tty, env)
    found, console = plain.terminal(cli.app.out._piped_width), _console()
    assert found is not None
    assert (found.width, found.ansi, found.no_color) == (console.width, console.color_system is not None,
                                                        console.no_color)


ALPHABET = list("abcdefghij KLMNOP 0123456789 -_/.:,;()'") + ["→", "—", "·", "é", "É", "ü", "[", "]", "[b]", "\\"]
RARE = ["\t", "中", "\x1b", "😀", "\u0301", "\x07"]  # not one cell as rich counts, or not printed as written
STYLES = ["", "", "", "bold", "dim", "green", "yellow", "blue", "bold red", "bold yellow", "dim italic", "red bold"]


def _word(rng: random.Random, most: int = 14) -> str:
    chars = [rng.choice(ALPHABET) for _ in range(rng.randint(0, most))]
    if rng.random() < 0.15:
        chars.insert(rng.randint(0, len(chars)), "\n")
    if rng.random() < 0.004:
        chars.insert(rng.randint(0, len(chars)), rng.choice(RARE))
    return "".join(chars)


def _txt(rng: random.Random) -> plain.Txt:
    parts = [(_word(rng), rng.choice(STYLES)) for _ in range(rng.randint(0, 4))]
    return plain.txt(*parts, style=rng.choice(STYLES))


def _grid(rng: random.Random) -> plain.Grid:
    columns = [plain.Col("".join(rng.choice("abcdef XYZ-") for _ in range(rng.randint(1, 10))),
                         justify=rng.choice(["left", "right"]), min_width=rng.choice([None, None, 0, 4, 11, 15]),
                         overflow=rng.choice(["fold", "ellipsis"]), no_wrap=rng.random() < 0.5)
               for _ in range(rng.randint(1, 7))]
    rows = [[_txt(rng) for _ in columns] for _ in range(rng.randint(0, 5))]
    return plain.Grid(columns, rows, box=rng.choice(["simple_head", "heavy_head"]), pad_edge=rng.random() < 0.5,
                      header_style=rng.choice(["bold", "", "dim"]))


@pytest.mark.parametrize("seed", range(6))
def test_generated_views_as_rich_writes_them(monkeypatch: pytest.MonkeyPatch, seed: int) -> None:
    rng = random.Random(seed)
    written = declined = 0
    for _ in range(40):
        view = [_grid(rng) if rng.random() < 0.6 else _txt(rng) for _ in range(rng.randint(1, 3))]
        tty, env = rng.choice(TERMINALS)
        with monkeypatch.context() as m:
            _stdout(m, tty, env)
            term = plain.terminal(cli.app.out._piped_width)
            assert term is not None
            try:
                ours = plain.render(view, term)
            except plain.Declined:
                declined += 1
                continue
            assert ours == _by_rich(view), (tty, env)
            written += 1
    assert written >= 20  # most views are written here, so that the comparison means something


def test_declines_what_it_cannot_be_sure_of(monkeypatch: pytest.MonkeyPatch) -> None:
    _stdout(monkeypatch, False, {"COLUMNS": "30"})
    term = plain.terminal(cli.app.out._piped_width)
    assert term is not None and term.width == 30
    wide = [plain.Col("a", min_width=20), plain.Col("b", min_width=20)]  # wider than 30 columns, however shrunk
    for view in ([plain.txt("tab\there")], [plain.txt("中文")], [plain.txt(("x", "underline2"))],
                 [plain.Grid(wide, [[plain.txt("y"), plain.txt("z")]])]):
        with pytest.raises(plain.Declined):
            plain.render(view, term)
    assert plain.render([plain.txt("x" * 30)], term) == "x" * 30 + "\n"
    assert plain.render([plain.txt("x" * 31)], term) == "x" * 30 + "\nx\n"  # folded, as rich does


# The rich code `plan status` and `probe` printed with before cli/plain.py (f699648), verbatim: the reference.
def _old_status_table(s):  # type: ignore[no-untyped-def]
    from rich import box
    from rich.console import Group
    from rich.table import Table

    from cli.commands.plan_status import STATE_STYLE, _short
    from cli.text import escape, visible
    from planning.stages import StageState

    year = s.planned_end.year if s.planned_end else None
    late = f", [bold yellow]{s.late_by_days} day(s) late[/]" if s.late_by_days else ""
    template = escape(s.template or "no template")
    head = Text.from_markup(f"[bold]{escape(s.production)}[/] ({template}) · hours {s.spent_hours:g}/"
                            f"{s.planned_hours:g} · delivery {s.planned_end or '—'} → forecast "
                            f"{s.forecast_end or '—'}{late}", emoji=False)
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    widths = {"stage": 15, "planned": 11, "re-planned": 11, "state": 11, "hours": 7, "late": 4, "responsible": 8}
    for col, width in widths.items():
        table.add_column(col, justify="right" if col in ("hours", "late") else "left", min_width=width,
                         overflow="ellipsis", no_wrap=True)
    for st in s.stages:
        planned = f"{_short(st.planned_start, year)}→{_short(st.planned_end, year)}" if st.planned_end else "—"
        replanned = (f"{_short(st.forecast_start, year)}→{_short(st.forecast_end, year)}"
                     if st.forecast_end and st.planned_end and st.forecast_end != st.planned_end else "")
        hours = f"{st.spent_hours:g}/{st.planned_hours:g}" if st.planned_hours is not None else f"{st.spent_hours:g}/—"
        state = Text(st.state.value, style=STATE_STYLE[st.state.value])
        table.add_row(Text(visible(st.label)), planned, replanned, state, hours,
                      f"{st.late_by_days} d" if st.late_by_days else "", Text(visible(st.responsible or "")))
    notes = [Text.assemble((visible(f"{st.label} ({st.state.value}): "), STATE_STYLE[st.state.value]),
                           visible("; ".join(st.reasons)))
             for st in s.stages if st.state in (StageState.LATE, StageState.BLOCKED) and st.reasons]
    return Group(head, table, *notes)


def _old_money_lines(pm):  # type: ignore[no-untyped-def]
    cur = pm.currency
    quoted = f"quote v{pm.quote.version} {pm.quoted} {cur}" if pm.quote else "no quote yet (`postprod plan quote`)"
    pct = f" ({pm.forecast - pm.quoted:+f} {cur} against the quote)" if pm.quote else ""
    style = "bold red" if pm.overrun else ""
    text = Text.assemble("money: ", quoted, f" · spent {pm.spent} {cur} · forecast ", (f"{pm.forecast} {cur}", style),
                         pct)
    for st in pm.stages:
        if st.overrun:
            text.append(f"\n  {st.label}: forecast {st.forecast} {cur} over its quoted {st.quoted} {cur} "
                        f"(+{st.over_percent} %; {st.basis})", style="bold red")
    for f in [*pm.costed.findings, *pm.findings]:
        text.append(f"\n  {f.rule}: {f.message}", style="yellow")
    return text


def _old_plan_status(today: str) -> None:
    from datetime import date

    from cli.app import settings
    from cli.commands.plan_group import planning_reader
    from planning import schedule
    from planning.money.service import money_of

    store = planning_reader()
    statuses = [s for s in schedule.all_statuses(store, date.fromisoformat(today)) if s.stages]
    money = money_of(store, statuses, settings())
    console = _console()
    for s in statuses:
        console.print(_old_status_table(s))
        if s.production in money:
            console.print(_old_money_lines(money[s.production]))


def _run(*args: str) -> int:
    from cli.main import run

    return run(list(args))


REPORTS = """date;technicien;étape;heures;travail;incidents
2026-01-05;Ana;Rushes reception;6;cards A001-A003;
2026-01-06;Ana;rushes_reception;5,5;cards B001-B002;B002 copied twice
2026-01-07;Paul;offline edit;8;assembly reel 1;
"""


@pytest.fixture()
def fresh_out(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """`out` not made yet, as in a new process; counts the views handed to rich."""
    monkeypatch.setattr(cli.app.out, "_console", None)
    handed: list[int] = []
    to_rich = plain.rich_renderables

    def counted(view):  # type: ignore[no-untyped-def]
        handed.append(len(view))
        return to_rich(view)

    monkeypatch.setattr(plain, "rich_renderables", counted)
    return handed


def test_plan_status_as_before(workspace: Path, monkeypatch: pytest.MonkeyPatch, fresh_out: list[int]) -> None:
    (workspace / "reports.csv").write_text(REPORTS, encoding="utf-8")
    for args in (["plan", "create", "-p", "test", "--template", "fiction", "--start", "2026-01-05", "-r",
                  "grading=Studio Lumière", "-r", "vfx=Équipe [VFX] \\", "--today", "2026-01-05", "--json"],
                 ["plan", "import", "reports.csv", "-p", "test", "--today", "2026-01-12", "--json"],
                 ["plan", "quote", "-p", "test", "--json"],
                 ["plan", "report", "-p", "test", "-s", "offline_edit", "-t", "Paul", "--hours", "10", "--done",
                  "long cut", "--date", "2026-01-09", "--today", "2026-01-12", "--json"],
                 ["plan", "mark", "-p", "test", "conform", "blocked", "--reason", "EDL missing [reel 3]", "--json"],
                 ["plan", "create", "-p", "[b]other", "--template", "fiction", "--start", "2026-02-01", "--json"]):
        with monkeypatch.context() as m:
            _stdout(m, False, {})
            assert _run(*args) in (0, 1), args
    fresh_out.clear()
    for tty, env in [(False, {}), (True, {"COLUMNS": "200"}), (True, {"COLUMNS": "180", "NO_COLOR": "1"}),
                     (False, {"FORCE_COLOR": "1", "COLUMNS": "190"}), (True, {"COLUMNS": "100"})]:
        with monkeypatch.context() as m:
            stream = _stdout(m, tty, env)
            m.setattr(cli.app.out, "_console", None)
            assert _run("plan", "status", "--today", "2026-01-12") == 0
            ours = _written(stream)
        with monkeypatch.context() as m:
            _stdout(m, tty, env)
            _old_plan_status("2026-01-12")
            before = _written(sys.stdout)  # type: ignore[arg-type]
        assert ours == before and "Studio Lumière" in ours and "EDL missing [reel 3]" in ours, (tty, env)
    assert len(fresh_out) == 1  # only the 100 columns did not fit: rich wrote that one


def _old_probe_table(items):  # type: ignore[no-untyped-def]
    from rich.table import Table

    from cli.render import media_summary
    from cli.text import visible
    from media.findings import Severity

    style = {Severity.ERROR: "bold red", Severity.WARNING: "yellow", Severity.INFO: "dim"}

    def findings_text(findings):  # type: ignore[no-untyped-def]
        text = Text()
        for i, f in enumerate(findings):
            if i:
                text.append("\n")
            text.append(f"{f.severity.value}: ", style=style[f.severity])
            text.append(visible(f"{f.rule} · {f.message}", lines=True))
        return text

    table = Table(show_lines=False, header_style="bold")
    for col in ("File", "Container", "Picture", "Sound", "Start TC", "Reel", "Findings"):
        table.add_column(col, overflow="fold")
    for m in items:
        findings = list(m.findings)
        table.add_row(*[Text(visible(v)) for v in (m.path, *media_summary(m))],
                      findings_text(findings) if findings else Text("ok", style="green"))
    return table


SUMMARY = re.compile(r"\d+ files in \d+\.\d\d s \(\d+\.\d files/s\)\n\Z")


def test_probe_as_before(workspace: Path, make_media, monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
                         fresh_out: list[int]) -> None:
    from cli.commands.probe_run import probe_paths

    card = Path("card")  # relative, as typed (the workspace is the current folder): a table that fits
    card.mkdir()
    clip = make_media("A001C001.mov", small_clip(reel="A001", timecode="10:00:00:00"))
    shutil.copy(clip, card / "A001C001.mov")
    shutil.copy(clip, card / "take [bold] é.mov")
    (card / "notes.txt").write_text("not media")
    (card / "cut.mov").write_bytes(clip.read_bytes()[:3000])
    for target in (card / "A001C001.mov", card):
        for tty, env in [(False, {}), (True, {"COLUMNS": "250"}), (False, {"FORCE_COLOR": "1", "NO_COLOR": "1"}),
                         (True, {"COLUMNS": "90"})]:
            fresh_out.clear()
            with monkeypatch.context() as m:
                stream = _stdout(m, tty, env)
                m.setattr(cli.app.out, "_console", None)
                _run("probe", str(target), "-p", "test")
                ours = _written(stream)
            with monkeypatch.context() as m:
                _stdout(m, tty, env)
                console = _console()
                console.print(_old_probe_table(probe_paths([target], None, "test")))
                console.print("0 files in 0.00 s (0.0 files/s)", markup=False, highlight=False)
                before = _written(sys.stdout)  # type: ignore[arg-type]
            assert SUMMARY.sub("", ours) == SUMMARY.sub("", before), (target, tty, env)
            assert SUMMARY.search(ours)
            assert not fresh_out  # written here, not by rich (its columns narrowed and wrapped as rich does)
