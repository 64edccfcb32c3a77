"""Configuration: `mediawatch.toml` validated by pydantic-settings, overridable from the environment.

Priority, highest first: environment (`MEDIAWATCH_DATABASE__URL`, ...), then the TOML file, then
defaults. Every problem becomes a :class:`ConfigError` that names the file, the key and what is
wrong; the CLI turns it into exit code 2.
"""

from __future__ import annotations

import re
import zoneinfo
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from core.paths import DEFAULT_CONFIG_NAME

SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")
EMAIL_RE = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)*$"
)


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


def check_http_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"not an http(s) URL: {value!r}")
    return value


def check_regex(value: str) -> str:
    try:
        re.compile(value)
    except re.error as exc:
        raise ValueError(f"invalid regular expression {value!r}: {exc}") from None
    return value


def check_email(value: str) -> str:
    # A display form "Name <addr>" is allowed for the sender; the address part must be sane.
    m = re.fullmatch(r"\s*(?:[^<>\r\n]*<([^<>\r\n]+)>|([^<>\s\r\n]+))\s*", value)
    addr = (m.group(1) or m.group(2)) if m else None
    if not addr or not EMAIL_RE.match(addr):
        raise ValueError(f"not an e-mail address: {value!r}")
    return value


class DatabaseConfig(_Section):
    url: str = "sqlite:///mediawatch.db"
    busy_timeout_seconds: float = Field(30.0, gt=0)

    @field_validator("url")
    @classmethod
    def _url(cls, v: str) -> str:
        if not re.match(r"^(sqlite|postgresql)(\+\w+)?://", v):
            raise ValueError("must be a sqlite:/// or postgresql+psycopg:// URL")
        return v


class CrawlConfig(_Section):
    user_agent: str = "mediawatch/0.1 (+https://example.org/about-our-crawler)"
    max_article_age_days: int = Field(30, ge=0, description="0 = no age limit")
    timeout_minutes: float = Field(30, gt=0)
    revisit_hours: float = Field(
        48, ge=0, description="re-check stored articles this recent (conditional GET)"
    )
    concurrency_per_domain: int = Field(4, ge=1)
    parallel_outlets: int = Field(3, ge=1)
    download_timeout_seconds: float = Field(30, gt=0)
    download_maxsize_bytes: int = Field(10 * 1024 * 1024, gt=0)
    section_max_pages: int = Field(3, ge=1)
    obey_robots: bool = True
    autothrottle: bool = True
    retry_times: int = Field(2, ge=0)
    near_duplicate_threshold: float = Field(0.7, gt=0, le=1)
    workers: int | None = Field(
        None, ge=0, description="extraction processes per crawl; default one per core, 0 = none"
    )
    extract_timeout_seconds: float = Field(30, gt=0)
    store_batch_pages: int = Field(
        20, ge=1, description="pages stored per transaction (one set of statements per batch)"
    )
    store_batch_ms: float = Field(
        500, gt=0, description="a batch waits at most this long for more pages before it is stored"
    )


class FlagConfig(_Section):
    interval_minutes: float = Field(15, gt=0)


class SmtpConfig(_Section):
    host: str = "localhost"
    port: int = Field(25, gt=0, lt=65536)
    security: Literal["none", "starttls", "ssl"] = "none"
    username: str = ""
    password: str = ""
    sender: str = "mediawatch <alerts@example.org>"
    timeout_seconds: float = Field(30, gt=0)

    @field_validator("sender")
    @classmethod
    def _sender(cls, v: str) -> str:
        return check_email(v)


class WebUser(_Section):
    name: str = Field(min_length=1)
    password_hash: str = Field(description="argon2 hash: `mediawatch web --hash-password`")

    @field_validator("password_hash")
    @classmethod
    def _argon2(cls, v: str) -> str:
        if not v.startswith("$argon2"):
            raise ValueError("not an argon2 hash (make one with `mediawatch web --hash-password`)")
        return v


class WebConfig(_Section):
    users: list[WebUser] = []
    proxy_auth_header: str = ""  # e.g. X-Remote-User, set by an authenticating reverse proxy
    secret_key: str = ""  # signs session cookies; from MEDIAWATCH_WEB__SECRET_KEY, else random
    database_url: str = ""  # e.g. a read-only PostgreSQL role; default: [database] url


class HealthConfig(_Section):
    """When an outlet is `degraded` or `silent` (core.health; docs/outlets.md explains each)."""

    interval_minutes: float = Field(60, gt=0, description="how often health is re-assessed")
    baseline_weeks: int = Field(4, ge=1)
    volume_sigmas: float = Field(1.5, gt=0)
    min_weekly_articles: float = Field(
        5, ge=0, description="below this baseline the volume rule does not apply"
    )
    silent_crawls: int = Field(6, ge=1, description="finished crawls in a row with no new article")
    share_drop: float = Field(
        0.5, gt=0, lt=1, description="author/date share at or below this fraction of baseline"
    )
    min_articles_for_share: int = Field(5, ge=1)
    error_rate: float = Field(0.5, gt=0, le=1, description="failed requests / requests, last crawl")
    bot_wall_min: int = Field(3, ge=1, description="403/429/challenge answers that make a wall")
    stale_source_hours: float = Field(
        48, gt=0, description="a feed or sitemap whose entries did not change for this long"
    )


class AlertsConfig(_Section):
    admins: list[str] = Field(
        [], description="mailed once when an outlet's health changes (ok/degraded/silent)"
    )

    @field_validator("admins")
    @classmethod
    def _admins(cls, v: list[str]) -> list[str]:
        return [check_email(a) for a in v]


class ClusterConfig(_Section):
    """Distributed mode (PostgreSQL only): `mediawatch worker` on any number of machines and one
    active `mediawatch run --distributed`. Every key has a default; see docs/operations.md."""

    enabled: bool = False  # `mediawatch run` behaves as `run --distributed`
    concurrency: int | None = Field(
        None,
        ge=1,
        description="outlet crawls one worker runs at once; default [crawl] parallel_outlets",
    )
    per_host: int = Field(
        1, ge=1, description="outlets of one host crawled at once, across all workers"
    )
    heartbeat_seconds: float = Field(10, gt=0)
    stalled_seconds: float = Field(
        60, gt=0, description="a worker silent this long is dead: its jobs go to another"
    )
    drain_seconds: float = Field(
        60, ge=0, description="on SIGTERM, wait this long for running crawls, then hand them back"
    )

    @model_validator(mode="after")
    def _heartbeat(self) -> ClusterConfig:
        if self.stalled_seconds < 2 * self.heartbeat_seconds:
            raise ValueError(
                "stalled_seconds must be at least twice heartbeat_seconds "
                f"({self.stalled_seconds} < 2 × {self.heartbeat_seconds})"
            )
        return self


class OutletConfig(_Section):
    slug: str
    name: str
    url: str
    country: str = ""
    language: str = ""
    feeds: list[str] = []
    sitemaps: list[str] = []
    sections: list[str] = []
    article_patterns: list[str] = []
    opinion_patterns: list[str] = []
    interval_minutes: float = Field(60, gt=0)
    enabled: bool = True
    author_selector: str = ""
    date_selector: str = ""
    body_selector: str = ""
    extra_domains: list[str] = []

    @field_validator("slug")
    @classmethod
    def _slug(cls, v: str) -> str:
        if not SLUG_RE.match(v):
            raise ValueError(f"slug {v!r} must match [a-z0-9-]+")
        return v

    @field_validator("url")
    @classmethod
    def _url(cls, v: str) -> str:
        return check_http_url(v)

    @field_validator("feeds", "sitemaps", "sections")
    @classmethod
    def _urls(cls, v: list[str]) -> list[str]:
        return [check_http_url(u) for u in v]

    @field_validator("article_patterns", "opinion_patterns")
    @classmethod
    def _patterns(cls, v: list[str]) -> list[str]:
        return [check_regex(p) for p in v]

    @field_validator("author_selector", "date_selector", "body_selector")
    @classmethod
    def _selector(cls, v: str) -> str:
        if v:
            from cssselect import GenericTranslator, SelectorError

            try:
                GenericTranslator().css_to_xpath(v)
            except SelectorError as exc:
                raise ValueError(f"invalid CSS selector {v!r}: {exc}") from None
        return v


def parse_alias(spec: str) -> tuple[str, str | None]:
    """Split ``TEXT[@LANG]``; a trailing ``@xx`` (2–3 letters) is the language."""
    m = re.fullmatch(r"(.+?)@([a-z]{2,3})", spec.strip())
    if m:
        return m.group(1).strip(), m.group(2)
    return spec.strip(), None


class WatchConfig(_Section):
    name: str
    kind: Literal["actor", "place"]
    aliases: list[str] = []
    case_sensitive: list[str] = []
    wikidata: str = ""
    notes: str = ""

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("must not be empty")
        return v.strip()

    @field_validator("wikidata")
    @classmethod
    def _wikidata(cls, v: str) -> str:
        if v and not re.fullmatch(r"Q\d+", v):
            raise ValueError(f"not a Wikidata id (Q123): {v!r}")
        return v

    @field_validator("aliases", "case_sensitive")
    @classmethod
    def _aliases(cls, v: list[str]) -> list[str]:
        for a in v:
            if not parse_alias(a)[0]:
                raise ValueError(f"empty alias in {a!r}")
        return v


def check_cron(schedule: str, timezone: str) -> None:
    from apscheduler.triggers.cron import CronTrigger

    try:
        CronTrigger.from_crontab(schedule, timezone=timezone)
    except (ValueError, KeyError) as exc:
        raise ValueError(f"invalid cron expression {schedule!r}: {exc}") from None


class SubscriberConfig(_Section):
    email: str
    name: str = ""
    entities: list[str] = []
    opinion_only: bool = False
    schedule: str = "0 7 * * *"
    timezone: str = "UTC"
    enabled: bool = True

    @field_validator("email")
    @classmethod
    def _email(cls, v: str) -> str:
        check_email(v)
        if "<" in v:
            raise ValueError("give the bare address; the name goes in 'name'")
        return v

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        try:
            zoneinfo.ZoneInfo(v)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {v!r}") from None
        return v

    @model_validator(mode="after")
    def _cron(self) -> SubscriberConfig:
        check_cron(self.schedule, self.timezone)
        return self


class Settings(BaseSettings):
    """The whole configuration. Build it with :func:`load_settings`, then pass it around."""

    model_config = SettingsConfigDict(
        env_prefix="MEDIAWATCH_",
        env_nested_delimiter="__",
        extra="forbid",
        nested_model_default_partial_update=True,
    )

    database: DatabaseConfig = DatabaseConfig()
    crawl: CrawlConfig = CrawlConfig()
    flag: FlagConfig = FlagConfig()
    smtp: SmtpConfig = SmtpConfig()
    web: WebConfig = WebConfig()
    cluster: ClusterConfig = ClusterConfig()
    health: HealthConfig = HealthConfig()
    alerts: AlertsConfig = AlertsConfig()
    outlets: list[OutletConfig] = []
    watch: list[WatchConfig] = []
    subscribers: list[SubscriberConfig] = []

    # Not configuration keys: where the file was, so relative paths and messages can use it.
    config_path: Path = Field(default=Path(DEFAULT_CONFIG_NAME), exclude=True)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The environment wins over the file (passed as init kwargs).
        return (env_settings, init_settings)

    @property
    def database_url(self) -> str:
        """The database URL with a relative SQLite path made relative to the config file."""
        url = self.database.url
        m = re.match(r"^(sqlite(?:\+\w+)?):///(.*)$", url)
        if m and m.group(2) and not m.group(2).startswith("/") and m.group(2) != ":memory:":
            base = self.config_path.resolve().parent
            return f"{m.group(1)}:///{base / m.group(2)}"
        return url
