"""Settings: a TOML file plus POSTPROD_* environment variables; no global instance."""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from config.datafiles import load_toml, validation_to_config_error
from config.errors import ConfigError, UnknownNameError
from config.servers import NotifySettings, PrefectSettings

if TYPE_CHECKING:  # the spec's models are built where a spec is read (probe, ingest, conform), not with the settings
    from config.spec import TechSpec

DEFAULT_IGNORE = [
    ".DS_Store",
    "._*",
    "Thumbs.db",
    "desktop.ini",
    ".Spotlight-V100",
    ".Trashes",
    ".fseventsd",
    ".TemporaryItems",
    "*.part",
    "*.tmp",
    "~$*",
]

HashAlgorithm = Literal["xxh128", "xxh64", "xxh3", "md5", "sha1", "c4"]


# The tables of the settings are validated inside Settings (their schemas are part of its own): each builds its own
# validator only where it is made alone (`Production(name="default")`), not at every start (defer_build).
class Production(BaseModel):
    """A production: its technical spec, where its rushes arrive, and where its outputs go."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    name: str
    spec: str = "default"  # a built-in spec name or a TOML file path
    ingest_folders: list[Path] = []
    output_root: Path | None = None
    proxy_presets: list[str] = []  # made by the ingest flow for each card it ingests
    proxy_root: Path | None = None  # default: output_root/proxies, else data_dir/proxies/<production>
    proxy_lut: Path | None = None  # a show LUT (.cube) applied to proxies of log footage
    delivery_profile: str | None = None
    handles: int = Field(default=12, ge=0)
    expected_cards: int | None = Field(default=None, ge=1)
    # Ingest folders on NFS/SMB shares (no inotify events there): `postprod watch` polls them.
    poll_folders: list[Path] = []
    rates: str | None = None  # a rates file (built-in name or TOML path) for this production; default: [money]

    def tech_spec(self) -> TechSpec:
        from config.spec import load_spec

        return load_spec(self.spec)


class SmtpSettings(BaseModel):
    """Where the coordinator's digest is sent (`postprod plan digest --send`)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, defer_build=True)

    host: str
    port: int = Field(default=25, ge=1, le=65535)
    sender: str = Field(alias="from")
    to: list[str] = Field(min_length=1)
    starttls: bool = False
    username: str | None = None
    password: str | None = None  # better in POSTPROD_SMTP__PASSWORD than in the file
    ca_file: Path | None = None  # a private CA for STARTTLS; else the system's
    timeout: float = Field(default=30.0, gt=0)


# Names a copy in progress writes under (rsync's `.name.XXXXXX`, browsers, Finder, our own atomic writes):
# a card holding one is still arriving.
DEFAULT_PARTIAL_PATTERNS = ["*.part", "*.partial", "*.tmp", "*.crdownload", "*.download", ".*.??????", "~$*"]


class WatchSettings(BaseModel):
    """`postprod watch`: polling, reconciliation with the catalogue, and how cards are known complete."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    poll_seconds: float = Field(default=10.0, gt=0)  # interval for polled folders
    reconcile_seconds: float = Field(default=900.0, gt=0)  # full scan against the catalogue
    max_ingests: int = Field(default=2, ge=1)  # ingests running at once
    partial_patterns: list[str] = DEFAULT_PARTIAL_PATTERNS
    done_markers: list[str] = []  # file names (globs) at a card's root that say its copy is over
    open_file_timeout: float = Field(default=3600.0, gt=0)  # a file written to and never closed
    incomplete_card_seconds: float = Field(default=3600.0, gt=0)  # waiting on files the card's MHL lists
    trigger: Literal["direct", "flow"] = "direct"


class MoneySettings(BaseModel):
    """Quotes, costs and overruns (docs/money.md)."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    rates: str = "house"  # the house rates: a built-in name (config/rates/) or a TOML path
    contingency_percent: Decimal = Field(default=Decimal(10), ge=0, le=100)  # added to a new quote
    overrun_threshold_percent: Decimal = Field(default=Decimal(5), ge=0, le=1000)  # forecast over quote: alert


class Settings(BaseModel):
    """Everything configurable. Environment variables POSTPROD_<FIELD> (POSTPROD_<FIELD>__<KEY> inside a table)
    override the TOML file (`load_settings`)."""

    # validate_default: defaults are validated as any value is (as pydantic-settings' BaseSettings does).
    model_config = ConfigDict(extra="forbid", validate_default=True)

    data_dir: Path = Path("~/.local/share/postprod")
    database_url: str | None = None  # any SQLAlchemy URL; SQLite in data_dir by default
    ffmpeg: str | None = None  # path to ffmpeg; else PATH; else the bundled static build
    hash_algorithm: HashAlgorithm = "xxh128"
    ignore: list[str] = DEFAULT_IGNORE
    decode_check: Literal["none", "tail", "full"] = "tail"
    settle_seconds: float = Field(default=5.0, ge=0)
    # A table left out: its defaults, made without validation (each as its own `WatchSettings()` would be; a new one
    # for each Settings), validated as any value is (validate_default)
    watch: WatchSettings = Field(default_factory=WatchSettings.model_construct)
    proxy_workers: int | None = Field(default=None, ge=1)  # parallel proxy encodes per host; default cores/4
    notify: NotifySettings = Field(default_factory=NotifySettings.model_construct)  # config/servers.py: failure notices
    prefect: PrefectSettings = Field(default_factory=PrefectSettings.model_construct)  # config/servers.py: servers
    analytics: bool = False
    productions: dict[str, Production] = {}
    public_url: str | None = None  # where `postprod serve` is reached (https://post.example.org): links in mails
    smtp: SmtpSettings | None = None
    money: MoneySettings = Field(default_factory=MoneySettings.model_construct)

    @property
    def data_path(self) -> Path:
        return self.data_dir.expanduser().resolve()

    @property
    def db_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_path / 'postprod.db'}"

    @property
    def reports_dir(self) -> Path:
        return self.data_path / "reports"

    def production(self, name: str | None) -> Production:
        """A configured production; 'default' always exists, with the default spec."""
        name = name or "default"
        if name in self.productions:
            return self.productions[name]
        if name == "default":
            return Production(name="default")
        raise UnknownNameError("production", name, ["default", *self.productions])

    def ffmpeg_exe(self) -> str:
        from config.tools import find_ffmpeg

        return find_ffmpeg(self.ffmpeg)


def settings_file(explicit: Path | None = None) -> Path | None:
    """The settings file: --config, else $POSTPROD_CONFIG, else ./postprod.toml, else ~/.config."""
    if explicit is not None:
        return explicit
    env = os.environ.get("POSTPROD_CONFIG")
    if env:
        return Path(env)
    for candidate in (Path("postprod.toml"), Path("~/.config/postprod/postprod.toml").expanduser()):
        if candidate.is_file():
            return candidate
    return None


def load_settings(path: Path | None = None, **overrides: Any) -> Settings:
    """Read settings from the TOML file (if any) and the environment; bad files name the field."""
    file = settings_file(path)
    data: dict[str, Any] = load_toml(file) if file else {}
    productions = data.get("productions", {})
    if isinstance(productions, dict):
        for key, value in productions.items():
            if isinstance(value, dict):
                value.setdefault("name", key)
    data.update(overrides)
    data = _deep_update(data, _environment())
    try:
        settings = Settings(**data)
    except ValidationError as exc:
        raise validation_to_config_error(file or "environment", exc) from exc
    if file is not None:
        _resolve_relative(settings, file.parent, data_dir_from_file="data_dir" in data)
    _check_data_dir(settings, file)
    if not settings.analytics:
        os.environ.setdefault("DO_NOT_TRACK", "1")
    return settings


ENV_PREFIX = "POSTPROD_"


def _environment() -> dict[str, Any]:
    """The settings the environment sets (POSTPROD_DATA_DIR, POSTPROD_SMTP__PASSWORD...), read as
    pydantic-settings reads them (names in any case, JSON for lists and tables, `__` into a table). Most
    runs set none: then pydantic-settings (a fifth of a light command's start-up) is not even imported."""
    fields = tuple(f"{ENV_PREFIX}{name}".upper() for name in Settings.model_fields)
    if not any(key.upper() == f or key.upper().startswith(f + "__") for key in os.environ for f in fields):
        return {}
    from pydantic_settings import EnvSettingsSource

    return EnvSettingsSource(Settings, case_sensitive=False, env_prefix=ENV_PREFIX,  # type: ignore[arg-type]
                             env_nested_delimiter="__")()


def _deep_update(base: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    """`update` over `base`, tables merged key by key (the environment's POSTPROD_SMTP__PASSWORD keeps the file's
    [smtp] host)."""
    merged = dict(base)
    for key, value in update.items():
        merged[key] = (_deep_update(merged[key], value) if isinstance(value, dict) and isinstance(merged.get(key), dict)
                       else value)
    return merged


def _check_data_dir(settings: Settings, file: Path | None) -> None:
    """The data directory (or the first part of its path that exists) must be a folder, not a file."""
    where = settings.data_dir.expanduser().absolute()
    for part in (where, *where.parents):
        if part.exists():
            if not part.is_dir():
                what = "is" if part == where else f"is under {part}, which is"
                raise ConfigError(file or "environment", "data_dir", f"'{where}' {what} a file, not a folder")
            return


def _resolve_relative(settings: Settings, base: Path, *, data_dir_from_file: bool) -> None:
    """Paths in a settings file are relative to that file, not to the current directory."""
    def fix(p: Path) -> Path:
        p = p.expanduser()
        return p if p.is_absolute() else (base / p)

    if data_dir_from_file and not os.environ.get("POSTPROD_DATA_DIR"):
        settings.data_dir = fix(settings.data_dir)
    for prod in settings.productions.values():
        prod.ingest_folders = [fix(p) for p in prod.ingest_folders]
        prod.poll_folders = [fix(p) for p in prod.poll_folders]
        if prod.output_root is not None:
            prod.output_root = fix(prod.output_root)
        if prod.proxy_root is not None:
            prod.proxy_root = fix(prod.proxy_root)
        if prod.proxy_lut is not None:
            prod.proxy_lut = fix(prod.proxy_lut)
        if prod.spec.endswith(".toml"):
            prod.spec = str(fix(Path(prod.spec)))
        if prod.delivery_profile and prod.delivery_profile.endswith(".toml"):
            prod.delivery_profile = str(fix(Path(prod.delivery_profile)))

