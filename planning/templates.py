"""Plan templates: which stages a production has, how long each lasts, and what it waits for (TOML data)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from config.datafiles import load_toml, validation_to_config_error
from config.errors import ConfigError, UnknownNameError
from planning.stages import label as stage_label

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "config" / "templates"
KEY = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


class StageTemplate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: str
    label: str | None = None
    days: int = Field(ge=1)
    hours: float = Field(ge=0)
    depends_on: list[str] = []
    lag_days: int = 0
    responsible: str | None = None

    @field_validator("key")
    @classmethod
    def _key(cls, value: str) -> str:
        if not KEY.match(value):
            raise ValueError("a stage key is lower-case letters, digits and '_' (at most 40)")
        return value


class PlanTemplate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    schema_version: Literal[1]
    name: str
    description: str = ""
    extends: str | None = None
    drop: list[str] = []
    hours_per_day: float | None = Field(default=None, gt=0, le=24)
    stages: list[StageTemplate] = []


@dataclass(frozen=True)
class PlannedStage:
    key: str
    label: str
    position: int
    start: date
    end: date
    minutes: int
    depends_on: list[str]
    responsible: str | None


@dataclass(frozen=True)
class Template:
    """A template resolved (its parent merged, dropped stages removed): ready to plan from."""

    name: str
    description: str
    hours_per_day: float
    stages: list[StageTemplate]
    path: Path

    def plan(self, start: date, responsible: dict[str, str] | None = None) -> list[PlannedStage]:
        """Planned dates from a start date: each stage starts the day after what it depends on ends (+ lag)."""
        by_key = {s.key: s for s in self.stages}
        ends: dict[str, date] = {}
        planned: dict[str, PlannedStage] = {}

        def visit(key: str) -> None:
            if key in planned:
                return
            st = by_key[key]
            begin = start
            for dep in st.depends_on:
                visit(dep)
                begin = max(begin, ends[dep] + timedelta(days=1 + st.lag_days))
            end = begin + timedelta(days=st.days - 1)
            ends[key] = end
            planned[key] = PlannedStage(
                key=key, label=st.label or stage_label(key), position=0, start=begin, end=end,
                minutes=round(st.hours * 60), depends_on=list(st.depends_on),
                responsible=(responsible or {}).get(key, st.responsible))

        for s in self.stages:
            visit(s.key)
        order = [s.key for s in self.stages]
        return [PlannedStage(**{**planned[k].__dict__, "position": i}) for i, k in enumerate(order)]


def builtin_templates() -> dict[str, Path]:
    return {p.stem: p for p in sorted(TEMPLATES_DIR.glob("*.toml"))}


def _read(name_or_path: str | Path) -> tuple[PlanTemplate, Path]:
    text = str(name_or_path)
    if text.endswith(".toml") or "/" in text:
        path = Path(text).expanduser()
    else:
        available = builtin_templates()
        if text not in available:
            raise UnknownNameError("plan template", text, list(available))
        path = available[text]
    data = load_toml(path)
    try:
        return PlanTemplate(**data), path
    except ValidationError as exc:
        raise validation_to_config_error(path, exc) from exc


def load_template(name_or_path: str | Path, _seen: tuple[str, ...] = ()) -> Template:
    """A template by built-in name ("fiction", "documentary") or TOML path, its parent merged in."""
    raw, path = _read(name_or_path)
    if raw.extends:
        if raw.extends in _seen or raw.extends == raw.name:
            raise ConfigError(path, "extends", f"template '{raw.extends}' extends itself")
        parent_ref: str | Path = raw.extends
        if raw.extends.endswith(".toml"):  # a file next to this one
            parent_ref = path.parent / raw.extends
        parent = load_template(parent_ref, (*_seen, raw.name))
        stages = list(parent.stages)
        hours_per_day = raw.hours_per_day or parent.hours_per_day
    else:
        stages = []
        hours_per_day = raw.hours_per_day or 8.0
    keys = [s.key for s in stages]
    for i, name in enumerate(raw.drop):
        if name not in keys:
            raise ConfigError(path, f"drop.{i}", f"no stage '{name}' to drop; stages: {', '.join(keys)}")
    stages = _drop(stages, set(raw.drop))
    for st in raw.stages:  # a stage of the same key replaces the parent's; a new key is added
        idx = next((i for i, s in enumerate(stages) if s.key == st.key), None)
        if idx is None:
            stages.append(st)
        else:
            stages[idx] = st
    if not stages:
        raise ConfigError(path, "stages", "a template needs at least one stage")
    _check(stages, path)
    return Template(name=raw.name, description=raw.description, hours_per_day=hours_per_day, stages=stages,
                    path=path)


def _drop(stages: list[StageTemplate], dropped: set[str]) -> list[StageTemplate]:
    """Remove stages; what depended on a dropped stage now waits for what that stage waited for."""
    by_key = {s.key: s for s in stages}

    def resolve(dep: str) -> list[str]:
        if dep not in dropped:
            return [dep]
        return [d for parent in by_key[dep].depends_on for d in resolve(parent)] if dep in by_key else []

    kept = []
    for s in stages:
        if s.key in dropped:
            continue
        deps = list(dict.fromkeys(d for dep in s.depends_on for d in resolve(dep)))
        kept.append(s.model_copy(update={"depends_on": deps}))
    return kept


def _check(stages: list[StageTemplate], path: Path) -> None:
    keys = [s.key for s in stages]
    seen: set[str] = set()
    for i, s in enumerate(stages):
        if s.key in seen:
            raise ConfigError(path, f"stages.{i}.key", f"stage '{s.key}' appears twice")
        seen.add(s.key)
        for dep in s.depends_on:
            if dep not in keys:
                raise ConfigError(path, f"stages.{i}.depends_on",
                                  f"unknown stage '{dep}'; stages: {', '.join(keys)}")
    # no cycles
    state: dict[str, int] = {}
    deps = {s.key: s.depends_on for s in stages}

    def walk(key: str, trail: list[str]) -> None:
        if state.get(key) == 2:
            return
        if state.get(key) == 1:
            raise ConfigError(path, "stages", "dependency cycle: " + " -> ".join([*trail, key]))
        state[key] = 1
        for d in deps[key]:
            walk(d, [*trail, key])
        state[key] = 2

    for k in keys:
        walk(k, [])
