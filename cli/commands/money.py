"""`postprod plan quote|overrun|invoice|pay`: the money side of the plans (docs/money.md)."""

from __future__ import annotations

import json
import re
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Annotated

import typer

from cli.app import JsonOpt, emit_json, err, out, settings
from cli.commands.plan_group import PlanProduction, TodayOpt, UsageError, plan_app
from cli.commands.plan_group import parse_date as _date
from cli.commands.plan_group import planning_store as _store
from cli.text import escape
from config.atomic import write_text_atomic

OutDir = Annotated[Path | None, typer.Option("--out", "-o", help="Folder for the documents; default: "
                                             "<data_dir>/reports/money/<production>/.")]


def folder(out_dir: Path | None, production: str) -> Path:
    from planning.money.document import folder_name

    return out_dir or settings().reports_dir / "money" / folder_name(production)


def _pct(value: str | None, option: str) -> Decimal | None:
    if value is None:
        return None
    try:
        number = Decimal(value.strip().rstrip("%").strip().replace(",", "."))
    except ArithmeticError:
        raise UsageError(f"{option} '{value}' is not a percentage") from None
    if not number.is_finite() or not 0 <= number <= 100:
        raise UsageError(f"{option} '{value}' is not a percentage between 0 and 100")
    return number


@plan_app.command("quote")
def quote_cmd(
    production: PlanProduction,
    reason: Annotated[str | None, typer.Option("--reason", help="Why this version (needed for v2 and later).")]
    = None,
    set_: Annotated[list[str] | None, typer.Option("--set", help="LINE.quantity=N, LINE.unit_price=N, "
                                                   "LINE.label=TEXT or LINE.note=TEXT; repeatable.")] = None,
    add: Annotated[list[str] | None, typer.Option("--add", help="A new line: 'STAGE.NAME=LABEL;QUANTITY;UNIT;"
                                                  "UNIT_PRICE'; repeatable.")] = None,
    drop: Annotated[list[str] | None, typer.Option("--drop", help="Remove a line; repeatable.")] = None,
    contingency: Annotated[str | None, typer.Option("--contingency", help="Contingency percentage; default: "
                                                    "[money] contingency_percent, then the last version's.")]
    = None,
    from_plan: Annotated[bool, typer.Option("--from-plan", help="Price the plan afresh as a new version.")]
    = False,
    version: Annotated[int | None, typer.Option("--version", help="Show (and write) this version.")] = None,
    out_dir: OutDir = None,
    json_out: JsonOpt = False,
) -> None:
    """The quote (devis): made from the plan and the rates; a change makes a new version, all are kept."""
    from planning.money import quote as qt
    from planning.money.documents import quote_doc
    from planning.money.rates import production_rates

    cfg = settings()
    store = _store()
    store.require_plan(production)
    pct = _pct(contingency, "--contingency")
    changes = bool(set_ or add or drop or pct is not None)
    current = qt.load(store, production, version)
    if version is not None and current is None:
        raise UsageError(f"production '{production}' has no quote v{version}")
    missing: list[str] = []
    made = version is None and (current is None or from_plan or changes)
    if made:
        current, missing = qt.revise(store, production, current, lambda: production_rates(cfg, production),
                                     cfg.money.contingency_percent, afresh=from_plan, reason=reason,
                                     sets=set_ or [], adds=add or [], drops=drop or [], contingency_percent=pct)
    assert current is not None
    versions = qt.versions(store, production)
    stem = folder(out_dir, production) / f"quote-v{current.version}"
    files = quote_doc(current, versions).write(stem)
    data = {**current.to_json(), "made": made, "versions": versions, "not_priced": missing,
            "files": {**files, "json": str(stem.with_suffix(".json"))}}
    write_text_atomic(stem.with_suffix(".json"), json.dumps(current.to_json(), indent=2, ensure_ascii=False) + "\n")
    if json_out:
        emit_json(data)
        return
    out.print(escape(f"{'Made' if made else 'Quote'} v{current.version} of {production}: total {current.total} "
                     f"{current.currency} ({len(current.lines)} lines, contingency {current.contingency_percent:g} %)"))
    for m in missing:
        out.print(f"[yellow]{escape(m)}[/]")
    _files(data["files"])


def _files(files: dict[str, str]) -> None:
    for kind, path in files.items():
        out.print(escape(f"  {kind}: {path}"))


@plan_app.command("overrun")
def overrun_cmd(
    production: PlanProduction,
    today: TodayOpt = None,
    out_dir: OutDir = None,
    json_out: JsonOpt = False,
) -> None:
    """The overrun statement for the producer (HTML, PDF): quoted, spent and by whom, why, forecast, and the
    proposed additional lines."""
    from planning import schedule
    from planning.money import statement
    from planning.money.service import check

    cfg = settings()
    store = _store()
    store.require_plan(production)
    day = _date(today, "--today")
    money = check(store, cfg, day, productions=[production])
    pm = money.money[production]
    if pm.quote is None:
        raise UsageError(f"production '{production}' has no quote to compare with: `postprod plan quote -p ...`")
    st = statement.build(pm, schedule.status(store, production, day), store.reports(production))
    stem = folder(out_dir, production) / f"overrun-{day.isoformat()}"
    files = statement.document(st).write(stem)
    data = {**st.to_json(), "files": files}
    if json_out:
        emit_json(data)
        return
    cur = pm.currency
    style = "bold red" if pm.overrun or any(s.overrun for s in pm.stages) else "green"
    out.print(f"[{style}]{escape(production)}: quoted {pm.quoted} {cur} (v{pm.quote.version}), spent {pm.spent} "
              f"{cur}, forecast {pm.forecast} {cur}[/]")
    for s in pm.stages:
        if s.overrun:
            out.print(escape(f"  {s.label}: forecast {s.forecast} {cur} against {s.quoted} {cur} quoted "
                             f"(+{s.over_percent} %)"))
    if st.proposed:
        out.print(escape(f"Proposed additional lines: {st.proposed_total} {cur}"))
    _files(files)


def _period(value: str | None, option: str, default: date) -> date:
    return default if value is None else _date(value, option)


@plan_app.command("invoice")
def invoice_cmd(
    production: PlanProduction,
    start: Annotated[str | None, typer.Option("--from", help="First day (YYYY-MM-DD); default: the first "
                                              "of this month.")] = None,
    end: Annotated[str | None, typer.Option("--to", help="Last day (YYYY-MM-DD), included; default: today.")]
    = None,
    out_dir: OutDir = None,
    json_out: JsonOpt = False,
) -> None:
    """The client's invoice lines for a period: every session report costed (CSV, HTML, PDF)."""
    from planning.money.exports import invoice
    from planning.money.rates import rates_resolver

    store = _store()
    store.require_plan(production)
    first = _period(start, "--from", date.today().replace(day=1))
    last = _period(end, "--to", date.today())
    if last < first:
        raise UsageError(f"--to {last} is before --from {first}")
    inv = invoice(store, production, first, last, rates_resolver(settings()))
    files = inv.document().write(folder(out_dir, production) / f"invoice-{first}_{last}")
    if json_out:
        emit_json({**inv.to_json(), "files": files})
        return
    out.print(escape(f"{production}: {len(inv.lines)} invoice line(s) from {first} to {last}, total {inv.total} "
                     f"{inv.currency}"))
    for f in inv.findings:
        err.print(f"[yellow]{escape(f.message)}[/]")
    _files(files)


@plan_app.command("pay")
def pay_cmd(
    month: Annotated[str | None, typer.Option("--month", help="YYYY-MM; default: this month.")] = None,
    production: Annotated[str | None, typer.Option("--production", "-p", help="One production; default: all.")]
    = None,
    out_dir: OutDir = None,
    json_out: JsonOpt = False,
) -> None:
    """The month's pay export for the freelance technicians: days and hours, normal and overtime, per person
    and production (CSV for a payroll tool; no pay slips). A technician on two productions the same day is a
    finding (exit 1)."""
    from planning.money.exports import pay_export
    from planning.money.rates import rates_resolver

    which = month or date.today().strftime("%Y-%m")
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", which):
        raise UsageError(f"--month '{which}' is not YYYY-MM")
    store = _store()
    if production is not None:
        store.require_plan(production)
    pay = pay_export(store, which, rates_resolver(settings()), production)
    base = out_dir or settings().reports_dir / "money"
    stem = base / (f"pay-{which}" + (f"-{folder(None, production).name}" if production else ""))
    files = pay.document().write(stem)
    if json_out:
        emit_json({**pay.to_json(), "files": files})
    else:
        out.print(escape(f"Pay export {which}: {len(pay.rows)} row(s) (technician × production)"))
        for f in pay.findings:
            err.print(f"[yellow]{escape(f.message)}[/]")
        _files(files)
    raise typer.Exit(1 if pay.findings else 0)
