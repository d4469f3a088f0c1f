"""The demo's planning step: plan the demo production, import session reports that make VFX late, digest."""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING

from cli.text import escape
from config.atomic import write_text_atomic
from config.settings import load_settings
from demo.money import demo_costs, demo_quote
from planning import digest as dg
from planning import plan, schedule
from planning.stages import StageState
from planning.store import PlanningStore

if TYPE_CHECKING:
    from demo.context import DemoContext

PLAN_START_DAYS_AGO = 37  # today falls at the start of VFX, sound edit and foley, with music under way


def demo_csv(start: date) -> str:
    """Session reports as a coordinator receives them: a spreadsheet export, French headers, ';' separators.
    Three VFX artists log 74 h of the 60 planned in three days (one 10-hour day: overtime); one row has negative
    hours."""
    def d(offset: int) -> str:
        return (start + timedelta(days=offset)).strftime("%d/%m/%Y")

    rows = ["date;technicien;étape;heures;travail;incidents"]
    rows += [f"{d(6 + i)};Camille;Montage image;8;assemblage bobine {i + 1};" for i in range(4)]
    rows += [f"{d(25 + i)};Hugo;Music;6,5;thème principal, maquette {i + 1};" for i in range(2)]
    for day in range(3):
        for who in ("Inès", "Malik", "Zoé"):
            incident = "plans 12-14 : tracking refait, caméra instable" if (day, who) == (1, "Malik") else ""
            hours = 10 if incident else 8
            rows.append(f"{d(35 + day)};{who};VFX;{hours};compositing séquence {day + 3};{incident}")
    rows.append(f"{d(35)};Zoé;VFX;-4;saisie erronée;")
    return "\n".join(rows) + "\n"


def demo_plan(ctx: DemoContext) -> None:
    """Planning: the demo production's plan, session reports that make VFX late, the coordinator's digest."""
    from cli.commands.plan import status_table

    settings = load_settings(ctx.config)
    store = PlanningStore(settings.db_url)
    today = date.today()
    prod = store.production("demo")
    if prod is None or not prod["template"]:
        start = today - timedelta(days=PLAN_START_DAYS_AGO)
        plan.create(store, "demo", "fiction", start, delivery_profile=settings.production("demo").delivery_profile,
                    responsible={"vfx": "Studio Lumen", "grading": "Léa (colourist)"})
        ctx.say(f"   planned 'demo' from template 'fiction', starting {start}")
    start = store.production("demo")["planned_start"]
    demo_quote(store, settings, ctx.say)
    rows = {r["stage"]: r for r in store.stage_rows("demo")}
    if rows["offline_edit"]["state"] != StageState.DONE.value:  # picture lock, on its planned day
        store.set_stage_state("demo", "offline_edit", StageState.DONE, note="picture lock signed off",
                              evidence={"by": "demo", "reason": "picture lock"}, on=rows["offline_edit"]["planned_end"])
    csv = ctx.workspace / "session_reports.csv"
    if not csv.exists():
        write_text_atomic(csv, demo_csv(start))
    result = plan.import_csv(store, csv, production="demo", all_or_nothing=False, today=today)
    ctx.say(f"   {csv.name}: {result.added} session report(s) added, {result.already} already there")
    for bad in result.bad:
        ctx.say(escape(f"   {csv.name}:{bad.line}: {bad.reason} (row left out)"))
    ctx.say(status_table(schedule.status(store, "demo", today)))  # type: ignore[arg-type]
    money = demo_costs(store, settings, today, ctx.say)
    d = dg.build(store, today, money=money)
    page = settings.reports_dir / "digest" / f"digest-{today.isoformat()}.html"
    write_text_atomic(page, d.html)
    store.record_digest(d.generated_at, str(page))
    ctx.say(escape(f"   {d.subject()}\n   Digest (open it in a browser): {page}", lines=True))
