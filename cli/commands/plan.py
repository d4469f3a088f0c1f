"""`postprod plan ...`: plans from templates, session reports, stage states by hand, the coordinator's digest."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Annotated

import typer

from cli.app import JsonOpt, emit_json, err, out, settings
from cli.commands.plan_group import PlanProduction, TodayOpt, UsageError, plan_app
from cli.commands.plan_group import parse_date as _date
from cli.commands.plan_group import planning_store as _store
from cli.commands.plan_status import status_command, status_table
from cli.text import escape
from config.atomic import write_text_atomic
from planning.stages import StageState


@plan_app.command("templates")
def templates(json_out: JsonOpt = False) -> None:
    """List the built-in plan templates and their stages."""
    from planning.templates import builtin_templates, load_template

    items = []
    for name in builtin_templates():
        t = load_template(name)
        items.append({"name": t.name, "description": t.description, "hours_per_day": t.hours_per_day,
                      "stages": [s.key for s in t.stages], "path": str(t.path)})
    if json_out:
        emit_json({"templates": items})
        return
    for t in items:
        out.print(f"[bold]{escape(t['name'])}[/]: {escape(t['description'])}\n  {escape(', '.join(t['stages']))}")


@plan_app.command("create")
def create(
    production: PlanProduction,
    template: Annotated[str, typer.Option("--template", "-t", help="Built-in template name or TOML file.")] = "fiction",
    start: Annotated[str | None, typer.Option("--start", help="First day of the plan (YYYY-MM-DD); default: today.")]
    = None,
    delivery_profile: Annotated[str | None, typer.Option("--delivery-profile", help="The PAD delivery profile; "
                                                         "default: the production's in the settings.")] = None,
    responsible: Annotated[list[str] | None, typer.Option("--responsible", "-r", help="STAGE=NAME, repeatable: "
                                                          "who does a stage (else the template's).")] = None,
    today: TodayOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Plan a production from a template (stages, dates, dependencies, responsible, planned hours)."""
    from planning import plan, schedule

    who: dict[str, str] = {}
    for item in responsible or []:
        stage, sep, name = item.partition("=")
        if not sep or not stage.strip() or not name.strip():
            raise UsageError(f"--responsible '{item}' is not STAGE=NAME")
        who[stage.strip()] = name.strip()
    cfg = settings()
    if delivery_profile is None and production in cfg.productions:
        delivery_profile = cfg.productions[production].delivery_profile
    store = _store()
    plan.create(store, production, template, _date(start, "--start"), delivery_profile=delivery_profile,
                responsible=who)
    status = schedule.status(store, production, _date(today, "--today"))
    if json_out:
        emit_json(status.to_json())
        return
    out.print(f"Planned [bold]{escape(production)}[/] from template '{escape(template)}': {len(status.stages)} stages, "
              f"delivery {status.planned_end}.")
    out.print(status_table(status))


@plan_app.command("status")
def status(
    production: Annotated[str | None, typer.Option("--production", "-p", help="One production; default: all.")]
    = None,
    today: TodayOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Each stage's dates, state, hours planned/spent and lateness, with re-planned dates."""
    raise typer.Exit(status_command(production, today, json_out))


@plan_app.command("report")
def report(
    production: PlanProduction,
    stage: Annotated[str, typer.Option("--stage", "-s", help="Stage key or name.")],
    technician: Annotated[str, typer.Option("--technician", "-t", help="Who worked.")],
    hours: Annotated[str, typer.Option("--hours", help="Hours worked: 7.5, 7,5 or 7h30.")],
    done: Annotated[str, typer.Option("--done", help="What was done.")],
    day: Annotated[str | None, typer.Option("--date", help="Day worked (YYYY-MM-DD); default: today.")] = None,
    incidents: Annotated[str | None, typer.Option("--incidents", help="Incidents, if any.")] = None,
    today: TodayOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Add one session report (bon de séance)."""
    from planning import plan
    from planning.reports import parse_date, parse_hours
    from planning.store import SessionReport

    store = _store()
    store.require_plan(production)
    key = plan.stage_key(store, production, stage)
    try:
        minutes = parse_hours(hours)
    except ValueError as exc:
        raise UsageError(f"--hours '{hours}': {exc}") from None
    try:
        work_date = parse_date(day) if day else date.today()
    except ValueError as exc:
        raise UsageError(f"--date: {exc}") from None
    if not technician.strip() or not done.strip():
        raise UsageError("--technician and --done must not be empty")
    rep = SessionReport(production=production, stage=key, technician=technician.strip(), work_date=work_date,
                        minutes=minutes, done=done.strip(), incidents=(incidents or "").strip() or None, source="cli")
    became = plan.add_report(store, rep, _date(today, "--today"))
    alerts = _overruns(store, [production], _date(today, "--today"))
    if json_out:
        emit_json({"production": production, "stage": key, "hours": minutes / 60, "became_late": became,
                   "overruns": [a.to_json() for a in alerts]})
        return
    out.print(escape(f"Session report added: {production} / {key}, {technician}, {work_date}, {minutes / 60:g} h."))
    for b in became:
        out.print(f"[bold yellow]{escape(b)} is now late[/]")


@plan_app.command("import")
def import_reports(
    csv_file: Annotated[Path, typer.Argument(help="CSV file (or a spreadsheet's CSV export) of session reports.")],
    production: Annotated[str | None, typer.Option("--production", "-p", help="The production, when the file "
                                                   "has no production column.")] = None,
    all_or_nothing: Annotated[bool, typer.Option("--all-or-nothing", help="Import nothing if any row is bad.")]
    = False,
    today: TodayOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Import session reports: each bad row is named with its reason; the good ones are kept.

    Columns: date, technician, stage, hours, done (what was done); optional: incidents, production.
    French headers (technicien, étape, heures, travail) and ';' separators are read too.
    """
    from planning import plan

    store = _store()
    result = plan.import_csv(store, csv_file, production=production, all_or_nothing=all_or_nothing,
                             today=_date(today, "--today"))
    alerts = _overruns(store, sorted({*result.late, *([production] if production else [])} |
                                     result.productions), _date(today, "--today"))
    if json_out:
        emit_json({**result.to_json(), "overruns": [a.to_json() for a in alerts]})
    else:
        for b in result.bad:
            err.print(f"[red]{escape(f'{csv_file}:{b.line}')}[/]: {escape(b.reason)}")
        if result.imported:
            out.print(escape(f"{csv_file}: {result.added} report(s) added, {result.already} already there, "
                      f"{len(result.bad)} bad row(s) left out."))
        else:
            out.print(escape(f"{csv_file}: nothing imported (--all-or-nothing): {len(result.bad)} bad row(s)."))
        for prod, stages in result.late.items():
            out.print(f"[bold yellow]{escape(prod)}: now late: {escape(', '.join(stages))}[/]")
    raise typer.Exit(1 if result.bad else 0)


def _overruns(store, productions: list[str], day: date) -> list:  # type: ignore[no-untyped-def]
    """Check the money of these productions after new reports: record and mail new overruns, print them."""
    from planning.money.service import check

    planned = [p for p in productions if (store.production(p) or {}).get("template")]
    if not planned:
        return []
    money = check(store, settings(), day, productions=planned)
    if money.send_error:
        err.print(f"[yellow]{escape(money.send_error)}[/]")
    for a in money.new:
        err.print(f"[bold red]overrun:[/] {escape(a.text())}")
    return money.alerts


@plan_app.command("mark")
def mark(
    production: PlanProduction,
    stage: Annotated[str, typer.Argument(help="Stage key or name.")],
    state: Annotated[StageState, typer.Argument(help="New state.")],
    reason: Annotated[str, typer.Option("--reason", help="Why (kept as evidence).")],
    json_out: JsonOpt = False,
) -> None:
    """Set a stage's state by hand, with a reason."""
    from planning import plan

    store = _store()
    key = plan.mark(store, production, stage, state, reason)
    if json_out:
        emit_json({"production": production, "stage": key, "state": state.value, "reason": reason})
        return
    out.print(escape(f"{production} / {key}: {state.value} ({reason})"))


@plan_app.command("digest")
def digest(
    output: Annotated[Path | None, typer.Option("--out", "-o", help="HTML file to write; default: "
                                                "<data_dir>/reports/digest/digest-<date>.html.")] = None,
    send: Annotated[bool, typer.Option("--send", help="Send it by e-mail ([smtp] settings).")] = False,
    since: Annotated[str | None, typer.Option("--since", help="'Finished since' this time (ISO); default: the "
                                              "last digest.")] = None,
    today: TodayOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """The coordinator's digest over all productions: late, blocked and why, finished, plan against actual."""
    from planning import digest as dg

    cfg = settings()
    if send and cfg.smtp is None:
        raise UsageError("--send needs an [smtp] section in the settings (host, port, from, to)")
    store = _store()
    since_at = None
    if since is not None:
        try:
            since_at = datetime.fromisoformat(since).astimezone()
        except ValueError:
            raise UsageError(f"--since '{since}' is not an ISO date or time") from None
    day = _date(today, "--today")
    from planning.money.service import check

    money = check(store, cfg, day)
    if money.send_error:
        err.print(f"[yellow]{escape(money.send_error)}[/]")
    d = dg.build(store, day, since=since_at, money=money, public_url=settings().public_url)
    path = output or (cfg.reports_dir / "digest" / f"digest-{day.isoformat()}.html")
    write_text_atomic(path, d.html)
    sent: list[str] = []
    if send:
        sent = dg.send(d, cfg.smtp)
    store.record_digest(d.generated_at, str(path), sent)
    if json_out:
        emit_json({**d.summary(), "html": str(path), "sent_to": sent, "alert_sent_to": money.sent_to})
        return
    out.print(escape(f"{d.subject()}\nDigest: {path}", lines=True))
    for a in money.alerts:
        out.print(f"[bold red]overrun{' (new)' if a.new else ''}:[/] {escape(a.text())}")
    if money.sent_to:
        out.print(escape(f"Overrun alert sent to {', '.join(money.sent_to)}"))
    if sent:
        out.print(escape(f"Sent to {', '.join(sent)} via {cfg.smtp.host}:{cfg.smtp.port}"))
from cli.commands import money as _money  # noqa: E402,F401  (registers quote, overrun, invoice, pay)
