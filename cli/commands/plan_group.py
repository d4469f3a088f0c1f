"""The `postprod plan` command group and what its commands share (options, dates, the planning store).

Apart from cli/commands/plan.py so that the money commands (cli/commands/money.py), which join the same group,
import it without importing plan.py, which loads them.
"""

from __future__ import annotations

from typing import Annotated

import typer

from cli.app import app
from cli.commands.plan_base import FIRST_YEAR, LAST_YEAR, UsageError, parse_date, planning_reader, planning_store

plan_app = typer.Typer(help="The production plans: stages, session reports, lateness and the coordinator's digest.",
                       no_args_is_help=True)
app.add_typer(plan_app, name="plan")

PlanProduction = Annotated[str, typer.Option("--production", "-p", help="Production name.")]
TodayOpt = Annotated[str | None, typer.Option("--today", help="Judge lateness on this day (YYYY-MM-DD); "
                                                              "default: today.")]

__all__ = ["FIRST_YEAR", "LAST_YEAR", "PlanProduction", "TodayOpt", "UsageError", "parse_date", "plan_app",
           "planning_reader", "planning_store"]
