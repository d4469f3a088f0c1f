"""`postprod plan status`'s work and views, without typer: cli/commands/plan.py declares the command, cli/fast.py
calls `status_command` directly for a plain command line."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from cli.base import emit_json, settings
from cli.commands.plan_base import parse_date as _date
from cli.commands.plan_base import planning_reader
from cli.plain import Col, Grid, Txt, rich_renderables, show, txt
from cli.text import visible
from planning.stages import StageState

if TYPE_CHECKING:  # rich loads when a table is printed by rich: `--json` and `--help` do without it
    from rich.console import Group
    from rich.text import Text

STATE_STYLE = {"planned": "dim", "in_progress": "blue", "done": "green", "late": "bold yellow", "blocked": "bold red"}


def status_command(production: str | None = None, today: str | None = None, json_out: bool = False) -> int:
    """Each stage's dates, state, hours planned/spent and lateness, with re-planned dates; the exit code."""
    from planning import schedule

    store = planning_reader()
    day = _date(today, "--today")
    if production is not None:
        if store.production(production) is None:
            store.require_plan(production)  # names the planned productions
        statuses = [schedule.status(store, production, day)]
    else:
        statuses = [s for s in schedule.all_statuses(store, day) if s.stages]
    from planning.money.service import money_of

    money = money_of(store, statuses, settings())
    if json_out:
        emit_json({"today": day.isoformat(), "productions": [
            {**s.to_json(), "money": money[s.production].to_json() if s.production in money else None}
            for s in statuses]})
        return 0
    view: list[Txt | Grid] = [] if statuses else [
        txt("No production has a plan yet: `postprod plan create -p NAME --template fiction`.")]
    for s in statuses:
        view.extend(status_view(s))
        if s.production in money:
            view.append(money_view(money[s.production]))
    show(view)  # without loading rich where the tables fit (cli/plain.py)
    return 0


def _short(d: date | None, year: int | None) -> str:
    if d is None:
        return "—"
    return d.strftime("%m-%d") if d.year == year else d.isoformat()


def status_table(s) -> Group:  # type: ignore[no-untyped-def]
    """The stage table of one production, then why each late or blocked stage is so (rich objects)."""
    from rich.console import Group

    return Group(*rich_renderables(status_view(s)))


def status_view(s) -> list[Txt | Grid]:  # type: ignore[no-untyped-def]
    """The stage table of one production, then why each late or blocked stage is so."""
    year = s.planned_end.year if s.planned_end else None
    late = [", ", (f"{s.late_by_days} day(s) late", "bold yellow")] if s.late_by_days else []
    head = txt((visible(s.production), "bold"), visible(f" ({s.template or 'no template'}) · hours {s.spent_hours:g}/"
               f"{s.planned_hours:g} · delivery {s.planned_end or '—'} → forecast {s.forecast_end or '—'}"), *late)
    widths = {"stage": 15, "planned": 11, "re-planned": 11, "state": 11, "hours": 7, "late": 4, "responsible": 8}
    table = Grid([Col(col, justify="right" if col in ("hours", "late") else "left", min_width=width,
                      overflow="ellipsis", no_wrap=True) for col, width in widths.items()],
                 box="simple_head", pad_edge=False)
    for st in s.stages:
        planned = f"{_short(st.planned_start, year)}→{_short(st.planned_end, year)}" if st.planned_end else "—"
        replanned = (f"{_short(st.forecast_start, year)}→{_short(st.forecast_end, year)}"
                     if st.forecast_end and st.planned_end and st.forecast_end != st.planned_end else "")
        hours = f"{st.spent_hours:g}/{st.planned_hours:g}" if st.planned_hours is not None else f"{st.spent_hours:g}/—"
        table.rows.append([txt(visible(st.label)), txt(planned), txt(replanned),
                           txt(st.state.value, style=STATE_STYLE[st.state.value]), txt(hours),
                           txt(f"{st.late_by_days} d" if st.late_by_days else ""), txt(visible(st.responsible or ""))])
    notes = [txt((visible(f"{st.label} ({st.state.value}): "), STATE_STYLE[st.state.value]),
                 visible("; ".join(st.reasons)))
             for st in s.stages if st.state in (StageState.LATE, StageState.BLOCKED) and st.reasons]
    return [head, table, *notes]


def money_lines(pm) -> Text:  # type: ignore[no-untyped-def]
    """Quoted, spent and forecast of a production, then each stage whose forecast passes its quote (rich)."""
    return rich_renderables([money_view(pm)])[0]


def money_view(pm) -> Txt:  # type: ignore[no-untyped-def]
    """Quoted, spent and forecast of a production, then each stage whose forecast passes its quote."""
    cur = pm.currency
    quoted = f"quote v{pm.quote.version} {pm.quoted} {cur}" if pm.quote else "no quote yet (`postprod plan quote`)"
    pct = f" ({pm.forecast - pm.quoted:+f} {cur} against the quote)" if pm.quote else ""
    style = "bold red" if pm.overrun else ""
    parts: list[str | tuple[str, str]] = ["money: ", quoted, f" · spent {pm.spent} {cur} · forecast ",
                                          (f"{pm.forecast} {cur}", style), pct]
    for st in pm.stages:
        if st.overrun:
            parts.append((f"\n  {st.label}: forecast {st.forecast} {cur} over its quoted {st.quoted} {cur} "
                          f"(+{st.over_percent} %; {st.basis})", "bold red"))
    for f in [*pm.costed.findings, *pm.findings]:
        parts.append((f"\n  {f.rule}: {f.message}", "yellow"))
    return txt(*parts)
