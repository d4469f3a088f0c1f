"""Rates as data: a schema-versioned TOML file per house, overridable per production (config/rates/*.toml).

What a session report costs and what the quote prices are computed from these: per technician and per role a
day rate and/or an hourly rate; the normal day and the overtime rule; facility (suite) day rates; one currency.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from config.datafiles import builtin_files, load_toml, validation_to_config_error
from config.errors import ConfigError, UnknownNameError

CURRENCY = r"^[A-Z]{3}$"  # ISO 4217


# Every model here is built at its first use (defer_build): a rates file is validated by RatesFile, whose schema holds
# the others; none builds a validator of its own when the module loads (plan status loads it at each start).


def _amount(ge: int = 0) -> Any:
    return Field(default=None, ge=ge, decimal_places=2, max_digits=12)


class Rate(BaseModel):
    """A day rate (for `normal_day_hours`), an hourly rate, or both; at least one."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    label: str | None = None
    day: Decimal | None = _amount()
    hour: Decimal | None = _amount()

    @model_validator(mode="after")
    def _one(self) -> Rate:
        if self.day is None and self.hour is None:
            raise ValueError("a rate needs `day`, `hour` or both")
        return self


class Facility(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    label: str | None = None
    day: Decimal = Field(ge=0, decimal_places=2, max_digits=12)


class StageCost(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    role: str | None = None
    facility: str | None = None


class Technician(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    role: str | None = None
    day: Decimal | None = _amount()
    hour: Decimal | None = _amount()
    freelance: bool = True  # paid as an intermittent technician: in the pay export


class Tier(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    from_hour: Decimal = Field(ge=0)  # counted in overtime hours of the day
    premium_percent: Decimal = Field(ge=0, le=400)


class Overtime(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    tiers: list[Tier] = Field(default_factory=lambda: [  # as Tier(...) makes them, without building its validator
        Tier.model_construct(from_hour=Decimal(0), premium_percent=Decimal(25)),
        Tier.model_construct(from_hour=Decimal(2), premium_percent=Decimal(50))])

    @model_validator(mode="after")
    def _ordered(self) -> Overtime:
        starts = [t.from_hour for t in self.tiers]
        if not starts or starts[0] != 0 or starts != sorted(set(starts)):
            raise ValueError("tiers start at from_hour = 0 and go up, each from_hour once")
        return self


class RatesFile(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    schema_version: Literal[1]
    name: str
    description: str = ""
    currency: str = Field(pattern=CURRENCY)
    normal_day_hours: Decimal = Field(default=Decimal(8), gt=0, le=24)
    max_day_hours: Decimal = Field(default=Decimal(12), gt=0, le=24)
    overtime: Overtime = Field(default_factory=Overtime.model_construct)  # as Overtime() makes it
    roles: dict[str, Rate] = {}
    facilities: dict[str, Facility] = {}
    stages: dict[str, StageCost] = {}
    technicians: dict[str, Technician] = {}

    @model_validator(mode="after")
    def _references(self) -> RatesFile:
        for key, st in self.stages.items():
            if st.role is not None and st.role not in self.roles:
                raise ValueError(f"stages.{key}.role: unknown role '{st.role}'; roles: {', '.join(self.roles)}")
            if st.facility is not None and st.facility not in self.facilities:
                raise ValueError(f"stages.{key}.facility: unknown facility '{st.facility}'; "
                                 f"facilities: {', '.join(self.facilities)}")
        for name, tech in self.technicians.items():
            if tech.role is not None and tech.role not in self.roles:
                raise ValueError(f"technicians.{name}.role: unknown role '{tech.role}'")
            if tech.role is None and tech.day is None and tech.hour is None:
                raise ValueError(f"technicians.{name}: needs a role or a rate of their own")
        if self.max_day_hours < self.normal_day_hours:
            raise ValueError("max_day_hours is less than normal_day_hours")
        return self


class Rates:
    """A resolved rates file (its `extends` merged): the lookups the costing needs."""

    def __init__(self, data: RatesFile, path: Path) -> None:
        self.data = data
        self.path = path
        self.currency = data.currency
        self.normal_minutes = int(data.normal_day_hours * 60)

    @property
    def name(self) -> str:
        return self.data.name

    def role_of(self, stage: str, technician: str | None = None) -> str | None:
        tech = self.technician(technician)
        if tech is not None and tech.role:
            return tech.role
        st = self.data.stages.get(stage)
        return st.role if st else None

    def technician(self, name: str | None) -> Technician | None:
        if not name:
            return None
        folded = name.strip().casefold()
        return next((t for n, t in self.data.technicians.items() if n.strip().casefold() == folded), None)

    def facility_of(self, stage: str) -> tuple[str, Facility] | None:
        st = self.data.stages.get(stage)
        if st is None or st.facility is None:
            return None
        return st.facility, self.data.facilities[st.facility]

    def rate(self, stage: str, technician: str | None = None) -> tuple[Decimal | None, Decimal | None, str] | None:
        """(day, hour, whose): the technician's own rate, else their role's, else the stage's role's."""
        tech = self.technician(technician)
        if tech is not None and (tech.day is not None or tech.hour is not None):
            return tech.day, tech.hour, f"{technician} (own rate)"
        role = self.role_of(stage, technician)
        if role is None or role not in self.data.roles:
            return None
        r = self.data.roles[role]
        return r.day, r.hour, r.label or role

    def hourly(self, day: Decimal | None, hour: Decimal | None) -> Decimal:
        """The hourly base: the hourly rate, else the day rate over the normal day (exact, not rounded)."""
        if hour is not None:
            return hour
        assert day is not None
        return day / self.data.normal_day_hours

    def freelance(self, technician: str) -> bool:
        tech = self.technician(technician)
        return True if tech is None else tech.freelance


def builtin_rates() -> dict[str, Path]:
    return builtin_files("rates")


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict) and key != "overtime":
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _raw(name_or_path: str | Path) -> tuple[dict[str, Any], Path]:
    text = str(name_or_path)
    path = Path(text).expanduser()
    if not path.suffix and not path.exists():
        available = builtin_rates()
        if text not in available:
            raise UnknownNameError("rates file", text, list(available))
        path = available[text]
    return load_toml(path), path


def load_rates(name_or_path: str | Path, _seen: tuple[str, ...] = ()) -> Rates:
    """Rates by built-in name ("house") or TOML path; `extends = "house"` (or "other.toml" next to it) merges
    the parent first, table by table. A bad file is a ConfigError naming the file and the field."""
    data, path = _raw(name_or_path)
    parent = data.pop("extends", None)
    if parent is not None:
        if not isinstance(parent, str) or parent in _seen:
            raise ConfigError(path, "extends", f"cannot extend {parent!r} (a name or a .toml file, no cycles)")
        parent_ref: str | Path = path.parent / parent if parent.endswith(".toml") else parent
        base = load_rates(parent_ref, (*_seen, str(path)))
        data = _merge(base.data.model_dump(mode="python", exclude_none=True), data)
    try:
        model = RatesFile.model_validate(data)
    except ValidationError as exc:
        raise _config_error(path, exc) from exc
    return Rates(model, path)


def _config_error(path: Path, exc: ValidationError) -> ConfigError:
    first = exc.errors()[0]
    if first["type"] == "value_error" and not first["loc"]:
        message = str(first["msg"]).removeprefix("Value error, ")
        field, _, reason = message.partition(": ")
        return ConfigError(path, field if reason else None, reason or message)
    return validation_to_config_error(path, exc)




def production_rates(settings: Any, production: str) -> Rates:
    """The production's rates file ([productions.NAME] rates), else the house one ([money] rates)."""
    prod = settings.productions.get(production)
    return load_rates(prod.rates if prod is not None and prod.rates else settings.money.rates)


def rates_resolver(settings: Any) -> Any:
    """production -> Rates, each file loaded once."""
    cache: dict[str, Rates] = {}

    def rates_for(production: str) -> Rates:
        if production not in cache:
            cache[production] = production_rates(settings, production)
        return cache[production]

    return rates_for
