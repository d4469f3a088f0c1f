"""`postprod plan quote|costs|overrun|invoice|pay`: the money side of the plans (docs/money.md)."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Annotated

import typer

from cli.app import JsonOpt, emit_json, out, settings
from cli.commands.plan import PlanProduction, UsageError, _store, plan_app
from config.atomic import write_text_atomic

OutDir = Annotated[Path | None, typer.Option("--out", "-o", help="Folder for the documents; default: "
                                             "<data_dir>/reports/money/<production>/.")]


def folder(out_dir: Path | None, production: str) -> Path:
    safe = re.sub(r"[^\w.-]+", "_", production).strip("._") or "production"
    return out_dir or settings().reports_dir / "money" / safe


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
    made = False
    if version is None and (current is None or from_plan or changes):
        if current is not None and not (reason or "").strip():
            raise UsageError(f"a new version of the quote of '{production}' needs --reason (v{current.version} "
                             "is kept)")
        if current is None or from_plan:
            base, missing = qt.from_plan(store, production, production_rates(cfg, production),
                                         cfg.money.contingency_percent)
            if current is not None:
                base.contingency_percent = current.contingency_percent
        else:
            base = current
        if reason:
            base.reason = reason.strip()
        current = qt.save(store, qt.adjust(base, sets=set_ or [], adds=add or [], drops=drop or [],
                                           contingency_percent=pct))
        made = True
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
    out.print(f"{'Made' if made else 'Quote'} v{current.version} of {production}: total {current.total} "
              f"{current.currency} ({len(current.lines)} lines, contingency {current.contingency_percent:g} %)")
    for m in missing:
        out.print(f"[yellow]{m}[/]")
    for kind, path in data["files"].items():
        out.print(f"  {kind}: {path}")
