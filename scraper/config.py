"""TOML + environment -> validated Settings and Sources, with errors that name the file and the key.

Resolution: --config PATH, else env XXGK_CONFIG, else ./xxgk.toml, else the bundled catalog.
Relative paths (data_dir, sqlite and file:// URLs) are read relative to the config file's folder.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal
from urllib.parse import urlparse
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

CATALOG = Path(__file__).with_name("catalog.toml")
DEFAULT_USER_AGENT = (
    "xxgk-archive/0.1 (+https://github.com/xxgk-archive/xxgk-archive; "
    "archiving public government information disclosures)"
)
ENGINES = ("local", "queue")
_SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_HOST = re.compile(r"^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$")
_EVERY = re.compile(r"^every\s+(\d+)\s*([smhd])$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


class ConfigError(Exception):
    """Bad configuration; the message names the file and the key."""


def parse_schedule(text: str, timezone: str = "Asia/Shanghai"):
    """'every 30m' -> ('interval', seconds); a 5-field cron -> ('cron', CronTrigger)."""
    text = text.strip()
    m = _EVERY.match(text)
    if m:
        seconds = int(m.group(1)) * _UNIT_SECONDS[m.group(2)]
        if seconds <= 0:
            raise ValueError(f"interval must be positive: {text!r}")
        return "interval", seconds
    fields = text.split()
    if len(fields) != 5:
        raise ValueError(
            f"schedule {text!r} is neither a 5-field cron ('0 */6 * * *') "
            "nor an interval ('every 30m', 'every 6h', 'every 10s')"
        )
    from apscheduler.triggers.cron import CronTrigger

    try:
        trigger = CronTrigger.from_crontab(text, timezone=ZoneInfo(timezone))
    except ValueError as exc:
        raise ValueError(f"bad cron {text!r}: {exc}") from None
    if trigger.get_next_fire_time(None, datetime.now(ZoneInfo(timezone))) is None:
        raise ValueError(f"cron {text!r} can never fire (no such date)")
    return "cron", trigger


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Settings(_Strict):
    data_dir: str = "data"
    database_url: str | None = None
    archive_url: str | None = None
    user_agent: str = DEFAULT_USER_AGENT
    timezone: str = "Asia/Shanghai"
    max_body_bytes: int = Field(default=20 * 1024 * 1024, gt=0)
    timeout: float = Field(default=30.0, gt=0)
    retries: int = Field(default=3, ge=0, le=10)
    backoff: float = Field(default=0.5, ge=0)  # first retry after ~backoff s, doubling, jittered
    max_parallel_sources: int = Field(default=4, ge=1, le=256)
    lease_seconds: float = Field(default=60.0, ge=1)  # a crashed crawler's lease lapses after this
    db_outage_seconds: float = Field(default=120.0, ge=0, le=86400)  # writes ride out a database outage this long
    grace_seconds: float = Field(default=10.0, ge=0)  # in-flight documents may finish within this on stop
    blocked_cooldown: float = Field(default=3600.0, ge=0)  # scheduled slots skipped after a BLOCKED run
    log_file: bool = True  # rotating log under data_dir/logs
    max_attachment_bytes: int = Field(default=100 * 1024 * 1024, gt=0)  # attachments over this are not kept
    extract_files: bool = True  # read the text of archived files beside each run
    extract_workers: int = Field(default=1, ge=1, le=64)  # processes reading them
    parse_workers: int = Field(default=0, ge=0, le=64)  # processes parsing a crawl's pages (0: on its event loop)
    engine: Literal[ENGINES] = "local"  # type: ignore[valid-type]  # "queue": crawls go to `xxgk worker`s
    notify_backoff: float = Field(default=30.0, gt=0)  # a failed notification again after ~this, doubling
    notify_backoff_max: float = Field(default=3600.0, gt=0)  # … up to this; never given up

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown timezone {v!r}") from None
        return v


class Selectors(_Strict):
    """The generic family's CSS selectors: `item` finds the list rows; `link`, `date` and `title` are
    looked up inside a row; `next` is the next-page link on the page."""

    item: str
    link: str | None = None
    date: str | None = None
    title: str | None = None
    next: str | None = None

    @field_validator("item", "link", "date", "title", "next")
    @classmethod
    def _css(cls, v: str | None) -> str | None:
        if v is None:
            return v
        from selectolax.lexbor import LexborHTMLParser

        try:
            LexborHTMLParser("<p></p>").css(v)
        except Exception:  # noqa: BLE001 - lexbor raises its own error type for bad selectors
            raise ValueError(f"not a valid CSS selector: {v!r}") from None
        return v


class _Named(_Strict):
    name: str

    @field_validator("name")
    @classmethod
    def _slug(cls, v: str) -> str:
        if not _SLUG.match(v):
            raise ValueError(f"name {v!r} must be a slug: lowercase letters, digits, '-' or '_'")
        return v


class SourceConfig(_Named):
    name: str
    title: str | None = None
    start_urls: list[str] = Field(min_length=1)
    family: str | None = None  # a registered portal family (scraper.portals)
    selectors: Selectors | None = None  # the generic family: CSS selectors of the list
    hosts: list[str] = []  # other hosts its documents or attachments live on
    attachments: bool = True  # download the files documents link (pdf, doc, ofd …)
    schedule: str | None = None
    rate: float = Field(default=1.0, ge=0)  # requests/s per host; 0 = unlimited
    concurrency: int = Field(default=2, ge=1, le=64)
    obey_robots: bool = True
    enabled: bool = True
    on_missed: Literal["run", "skip"] = "run"  # a slot due while the daemon was down: run once, or skip
    jitter: float = Field(default=0, ge=0)  # seconds of random delay added to each scheduled start

    @field_validator("family")
    @classmethod
    def _family(cls, v: str | None) -> str | None:
        from scraper.portal_names import family_names  # the names only: the adapters load when they crawl

        if v is not None and v not in family_names():
            raise ValueError(f"unknown portal family {v!r} (known: {', '.join(family_names())})")
        return v

    @field_validator("start_urls")
    @classmethod
    def _urls(cls, urls: list[str]) -> list[str]:
        for u in urls:
            p = urlparse(u)
            if p.scheme not in ("http", "https") or not p.hostname:
                raise ValueError(f"bad URL {u!r}: need an http:// or https:// URL with a host")
        return urls

    @field_validator("hosts")
    @classmethod
    def _hosts(cls, hosts: list[str]) -> list[str]:
        hosts = [h.lower() for h in hosts]
        for h in hosts:
            if not _HOST.match(h):
                raise ValueError(f"bad host {h!r}: a host name only, such as 'www.gov.cn' (no scheme, no path)")
        return hosts

    @model_validator(mode="after")
    def _selectors_need_generic(self):
        if self.selectors is not None and self.family not in (None, "generic"):
            raise ValueError(
                f'selectors are for the generic family, not {self.family!r} (drop them, or set family = "generic")'
            )
        return self


WATCH_EVENTS = ("new", "changed", "withdrawn", "health")


class WatchConfig(_Named):
    """Tell people when documents appear, change or vanish (schedules/notify.py delivers)."""

    name: str
    query: str | None = None  # search terms (AND), as `xxgk search`; None: every document
    sources: list[str] | None = None  # None: every source
    events: list[str] = ["new", "changed", "withdrawn"]
    notify: list[str] = Field(min_length=1)  # Apprise URLs: json://, form://, mailto://, wecombot:// …
    digest: str = "off"  # "off": a message per run; a cron: one digest per slot

    @field_validator("query")
    @classmethod
    def _query(cls, v: str | None) -> str | None:
        from storage.search import SearchError, parse_query

        if v is not None:
            try:
                parse_query(v)
            except SearchError as exc:
                raise ValueError(str(exc)) from None
        return v

    @field_validator("events")
    @classmethod
    def _events(cls, v: list[str]) -> list[str]:
        bad = [e for e in v if e not in WATCH_EVENTS]
        if bad or not v:
            raise ValueError(
                f"unknown event {bad[0]!r} (known: {', '.join(WATCH_EVENTS)})"
                if bad
                else f"name at least one event ({', '.join(WATCH_EVENTS)})"
            )
        return v

    @field_validator("notify")
    @classmethod
    def _notify(cls, urls: list[str]) -> list[str]:
        for i, url in enumerate(urls):
            if not apprise_parses(url):
                raise ValueError(
                    f"Apprise cannot parse {redact(url)!r} (item {i}; URL forms: "
                    "https://github.com/caronc/apprise/wiki)"
                )
        return urls


def apprise_parses(url: str) -> bool:
    import apprise

    return apprise.Apprise.instantiate(url, suppress_exceptions=True) is not None


def redact(url: str) -> str:
    """A notify URL without its password (for messages and listings)."""
    p = urlparse(url)
    if p.password:
        return url.replace(f":{p.password}@", ":***@", 1)
    return url


class _File(_Strict):
    settings: Settings = Settings()
    sources: list[SourceConfig] = []
    watches: list[WatchConfig] = []

    @model_validator(mode="after")
    def _checks(self):
        seen: set[str] = set()
        for i, s in enumerate(self.sources):
            if s.name in seen:
                raise ValueError(f"sources[{i}].name: duplicate source name {s.name!r}")
            seen.add(s.name)
            if s.schedule:
                try:
                    parse_schedule(s.schedule, self.settings.timezone)
                except ValueError as exc:
                    raise ValueError(f"sources[{i}].schedule: {exc}") from None
        names: set[str] = set()
        for i, w in enumerate(self.watches):
            if w.name in names:
                raise ValueError(f"watches[{i}].name: duplicate watch name {w.name!r}")
            names.add(w.name)
            for src in w.sources or []:
                if src not in seen:
                    raise ValueError(
                        f"watches[{i}].sources: unknown source {src!r} "
                        f"(configured: {', '.join(sorted(seen)) or 'none'})"
                    )
            if w.digest != "off":
                try:
                    parse_schedule(w.digest, self.settings.timezone)
                except ValueError as exc:
                    raise ValueError(f'watches[{i}].digest: "off" or a cron: {exc}') from None
        return self


@dataclass(frozen=True)
class Config:
    settings: Settings
    sources: list[SourceConfig]
    path: Path | None  # None for the bundled catalog
    base_dir: Path
    watches: tuple[WatchConfig, ...] = ()

    def watch(self, name: str) -> WatchConfig:
        return _named(self.watches, name, "watch")

    @property
    def data_dir(self) -> Path:
        return _resolve(self.settings.data_dir, self.base_dir)

    @property
    def database_url(self) -> str:
        url = os.environ.get("XXGK_DATABASE_URL") or self.settings.database_url
        if not url:
            return f"sqlite:///{self.data_dir / 'xxgk.db'}"
        if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
            rel = url[len("sqlite:///") :]
            if rel and rel != ":memory:":
                return f"sqlite:///{_resolve(rel, self.base_dir)}"
        return url

    @property
    def archive_url(self) -> str:
        url = os.environ.get("XXGK_ARCHIVE_URL") or self.settings.archive_url
        if not url:
            return f"file://{self.data_dir / 'archive'}"
        if url.startswith("file://") and not url.startswith("file:///"):
            return f"file://{_resolve(url[len('file://') :], self.base_dir)}"
        return url

    def source(self, name: str) -> SourceConfig:
        return _named(self.sources, name, "source")


def _named(items, name: str, what: str):
    for item in items:
        if item.name == name:
            return item
    known = ", ".join(i.name for i in items) or "none"
    raise ConfigError(f"unknown {what} {name!r} (configured: {known})")


def _resolve(path: str, base: Path) -> Path:
    p = Path(path).expanduser()
    return p if p.is_absolute() else (base / p).resolve()


def _format(err: ValidationError, where: str) -> str:
    lines = []
    for e in err.errors():
        loc = "".join(f"[{x}]" if isinstance(x, int) else f".{x}" for x in e["loc"]).lstrip(".")
        msg = e["msg"].removeprefix("Value error, ")
        if e["type"] == "extra_forbidden":
            msg = "unknown key"
        lines.append(f"{where}: {loc}: {msg}" if loc else f"{where}: {msg}")
    return "\n".join(lines)


def parse_config(text: str, where: str, base_dir: Path, path: Path | None) -> Config:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{where}: not valid TOML: {exc}") from None
    try:
        parsed = _File.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_format(exc, where)) from None
    settings = parsed.settings
    engine = os.environ.get("XXGK_ENGINE")
    if engine:
        if engine not in ENGINES:
            raise ConfigError(f"env XXGK_ENGINE: engine must be one of {', '.join(ENGINES)}, not {engine!r}")
        settings = settings.model_copy(update={"engine": engine})
    cfg = Config(settings, list(parsed.sources), path, base_dir, tuple(parsed.watches))
    if cfg.settings.engine == "queue" and not cfg.database_url.startswith("postgresql"):
        raise ConfigError(
            f"{where}: settings.engine: 'queue' needs a PostgreSQL database_url "
            f"(postgresql+psycopg://…), not {cfg.database_url.split('://')[0]}://…"
        )
    return cfg


def load_config(path: str | Path | None = None) -> Config:
    explicit = path or os.environ.get("XXGK_CONFIG")
    if explicit:
        p = Path(explicit).expanduser()
    elif Path("xxgk.toml").exists():
        p = Path("xxgk.toml")
    else:
        return parse_config(CATALOG.read_text("utf-8"), "bundled catalog", Path.cwd(), None)
    try:
        text = p.read_text("utf-8")
    except FileNotFoundError:
        raise ConfigError(f"config file {p} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"config file {p} is unreadable: {exc}") from None
    return parse_config(text, str(p), p.resolve().parent, p.resolve())
