"""Settings: one TOML file, every value overridable from ``UDEMY360_…`` environment variables.

Precedence, highest first: keyword arguments, environment (``UDEMY360_UDEMY__CLIENT_SECRET``),
the TOML file (``udemy360.toml`` or ``--config``/``UDEMY360_CONFIG``), defaults. Secrets are
``SecretStr``; in the file they are either encrypted (``"enc:…"``, see ``udemy360.secrets``) or
read from another file (``client_secret_file = "/run/secrets/…"``). Nothing here is built at import
time: entry points call ``load_settings`` and pass the result down.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import time
from pathlib import Path
from typing import Final, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from udemy360._http import require_secure_base_url
from udemy360.secrets import SecretBox, SecretKeyError, is_encrypted, key_path_for, load_key

DEFAULT_CONFIG_NAME: Final = "udemy360.toml"
DEFAULT_DB_NAME: Final = "udemy360.db"
CONFIG_ENV: Final = "UDEMY360_CONFIG"
ENV_PREFIX: Final = "UDEMY360_"

_OBJECT_ID = re.compile(r"^[0-9a-fA-F]{24}$")
_ACCOUNT_NAME = re.compile(r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$")


class ConfigError(Exception):
    """The configuration is missing, unreadable or invalid; the message names setting and fix."""

    def __init__(self, message: str, *, problems: Sequence[ConfigProblem] = ()) -> None:
        super().__init__(message)
        self.problems = tuple(problems)


@dataclass(frozen=True, slots=True)
class ConfigProblem:
    """One invalid or missing setting."""

    setting: str  # dotted, as in the TOML: "udemy.client_secret"
    message: str
    env: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "env", env_name(self.setting))

    def __str__(self) -> str:
        return f"{self.setting}: {self.message} (set it in the config file or {self.env})"


def env_name(setting: str) -> str:
    """Return the environment variable that overrides the dotted ``setting``."""
    return ENV_PREFIX + setting.replace(".", "__").upper()


# --- secret resolution while loading -----------------------------------------------------------

_BOX: ContextVar[SecretBox | SecretKeyError | None] = ContextVar(
    "udemy360_secret_box", default=None
)
_TOML: ContextVar[Mapping[str, object] | None] = ContextVar("udemy360_toml", default=None)


def _resolve_secret(data: object, section: str) -> object:
    """Decrypt an ``enc:`` secret or read ``client_secret_file`` before validation."""
    if not isinstance(data, dict):
        return data
    setting = f"{section}.client_secret"
    value = data.get("client_secret")
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    if isinstance(value, str) and value.strip() == "":
        value = None
    if isinstance(value, str) and is_encrypted(value):
        box = _BOX.get()
        if box is None:
            raise ValueError(
                f"{setting} is encrypted but no key was found: keep the key file created by "
                "'udemy360 init' next to the config file, or set UDEMY360_KEY"
            )
        if isinstance(box, SecretKeyError):
            raise ValueError(str(box))
        try:
            value = box.decrypt(value, setting=setting).get_secret_value()
        except SecretKeyError as exc:
            raise ValueError(str(exc)) from None
    secret_file = data.get("client_secret_file")
    if value is None and secret_file:
        path = Path(str(secret_file))
        try:
            value = path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ValueError(
                f"{section}.client_secret_file: cannot read {path} ({exc.strerror}); "
                "fix the path or give the secret another way"
            ) from None
        except UnicodeDecodeError:
            raise ValueError(
                f"{section}.client_secret_file: {path} is not UTF-8 text; write the secret "
                "to it as plain text"
            ) from None
        if not value:
            raise ValueError(f"{section}.client_secret_file: {path} is empty")
    return {**data, "client_secret": value}


_BAD_PORT: Final = "has a port that is not a number from 1 to 65535: fix or remove the port"


def _base_url(value: str, setting: str) -> str:
    """Check an API base URL: https (http on loopback only), no credentials, a real port."""
    try:
        parts = urlsplit(value.strip())
    except ValueError:  # an unclosed IPv6 bracket
        raise ValueError(
            "is not a valid URL, e.g. 'https://acme.udemy.com/api-2.0/organizations/123456/'"
        ) from None
    if parts.username is not None or parts.password is not None:
        # said first: require_secure_base_url's other messages repeat the URL
        raise ValueError("must not embed credentials: set client_id and client_secret")
    try:
        port = parts.port  # raises ValueError when not a number in 0..65535
    except ValueError:
        raise ValueError(_BAD_PORT) from None
    if port == 0:
        raise ValueError(_BAD_PORT)
    return require_secure_base_url(value.strip(), setting=setting)


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class UdemySettings(_Section):
    """The Udemy Business side: account and API client (Manage → Settings → API)."""

    account_name: str | None = Field(
        default=None,
        description="Sub-domain of your Udemy Business site: 'acme' for acme.udemy.com",
    )
    account_id: str | None = Field(default=None, description="Numeric organization id")
    client_id: str | None = None
    client_secret: SecretStr | None = None
    client_secret_file: Path | None = None
    base_url: str | None = Field(default=None, description="Override of the API base URL")

    @model_validator(mode="before")
    @classmethod
    def _open_secret(cls, data: object) -> object:
        return _resolve_secret(data, "udemy")

    @field_validator("account_name")
    @classmethod
    def _check_account_name(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip().lower()
        if not _ACCOUNT_NAME.match(value):
            raise ValueError(
                "must be the sub-domain of your Udemy Business site only, e.g. 'acme' for "
                "https://acme.udemy.com (no scheme, dots or slashes)"
            )
        return value

    @field_validator("account_id", mode="before")
    @classmethod
    def _check_account_id(cls, value: object) -> object:
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if isinstance(value, str) and not value.strip().isdigit():
            raise ValueError(
                "must be your numeric Udemy organization id (shown on the API page of "
                "your Udemy Business site), e.g. '123456'"
            )
        return value.strip() if isinstance(value, str) else value

    @field_validator("base_url")
    @classmethod
    def _check_base_url(cls, value: str | None) -> str | None:
        return None if value is None else _base_url(value, "udemy.base_url")


class Learning360Settings(_Section):
    """The 360Learning side: API v2 credentials, target group, owner and integration."""

    region: Literal["eu", "us"] = "eu"
    base_url: str | None = None
    client_id: str | None = None
    client_secret: SecretStr | None = None
    client_secret_file: Path | None = None
    group_id: str | None = None
    owner_id: str | None = None
    integration_id: str | None = None
    platform_name: str = "Udemy"

    @model_validator(mode="before")
    @classmethod
    def _open_secret(cls, data: object) -> object:
        return _resolve_secret(data, "learning360")

    @field_validator("group_id", "owner_id", "integration_id")
    @classmethod
    def _check_object_id(cls, value: str | None) -> str | None:
        if value is None or value.strip() == "":
            return None
        value = value.strip()
        if not _OBJECT_ID.match(value):
            raise ValueError(
                "must be a 360Learning id: 24 hexadecimal characters, e.g. "
                "'64b7f0c2a1b2c3d4e5f60718' (copy it from the group or user page URL)"
            )
        return value

    @field_validator("base_url")
    @classmethod
    def _check_base_url(cls, value: str | None) -> str | None:
        return None if value is None else _base_url(value, "learning360.base_url")

    @field_validator("platform_name")
    @classmethod
    def _check_platform_name(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError(
                "must not be empty: it is the platform name learners see, e.g. 'Udemy'"
            )
        return value


class OptionSettings(_Section):
    """Optional parts of the synchronisation (off by default, as in the spec)."""

    tags: bool = False
    learning_paths: bool = False


class ScheduleSettings(_Section):
    """When the service runs each job, in ``timezone`` local time (daylight saving followed)."""

    courses: time = time(7, 30)
    stats: time = time(7, 45)
    timezone: str = "Europe/Paris"

    @field_validator("courses", "stats", mode="before")
    @classmethod
    def _parse_time(cls, value: object) -> object:
        if isinstance(value, str):
            match = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*", value)
            if not match or int(match[1]) > 23 or int(match[2]) > 59:
                raise ValueError("must be a time of day as HH:MM, e.g. '07:30'")
            return time(int(match[1]), int(match[2]))
        return value

    @field_validator("timezone")
    @classmethod
    def _check_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                "must be an IANA time zone name such as 'Europe/Paris' or 'UTC'"
            ) from None
        return value

    @property
    def zone(self) -> ZoneInfo:
        """The schedule's time zone."""
        return ZoneInfo(self.timezone)


class LimitSettings(_Section):
    """Throughput and safety limits; the defaults suit most tenants."""

    udemy_concurrency: int = Field(default=4, ge=1, le=16)
    udemy_requests_per_second: float | None = Field(default=None, gt=0)
    l360_writes_per_second: float = Field(default=10.0, gt=0, le=10)  # per company, research §6
    l360_reads_per_second: float = Field(default=50.0, gt=0, le=50)
    bulk_in_flight: int = Field(default=2, ge=1, le=3)  # 360Learning allows 3 per company
    # one request's whole life (connect to last byte); above Cloudflare's 100 s (Udemy's 524)
    request_deadline: float = Field(default=180.0, ge=1, le=3600)
    max_archive_share: float = Field(default=0.10, ge=0, le=1)
    stats_overlap_days: int = Field(default=2, ge=0, le=60)
    full_stats_every_days: int = Field(default=7, ge=1, le=365)


class _EnvSource(EnvSettingsSource):
    """The ``UDEMY360_…`` variables; a section given as bad JSON is a ``ConfigError`` naming it."""

    def prepare_field_value(
        self, field_name: str, field: FieldInfo, value: object, value_is_complex: bool
    ) -> object:
        try:
            return super().prepare_field_value(field_name, field, value, value_is_complex)
        except ValueError as exc:
            # pydantic-settings would raise a bare SettingsError; the value may hold a secret,
            # so only the decoder's position is repeated.
            where = (
                f" ({exc.msg} at character {exc.pos + 1})"
                if isinstance(exc, json.JSONDecodeError)
                else ""
            )
            variable = env_name(field_name)
            problem = ConfigProblem(field_name, f"{variable} is not a JSON object{where}")
            raise ConfigError(
                f"{variable} is not valid JSON{where}: give the whole [{field_name}] section as "
                f'a JSON object, e.g. {variable}=\'{{"key": "value"}}\', or set one key per '
                f"variable, e.g. {variable}__KEY=value",
                problems=[problem],
            ) from None


class _TomlSource(PydanticBaseSettingsSource):
    """Feeds the TOML document being loaded (set by ``load_settings``) at the lowest priority."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[object, str, bool]:
        return (_TOML.get() or {}).get(field_name), field_name, False

    def __call__(self) -> dict[str, object]:
        return dict(_TOML.get() or {})


class Settings(BaseSettings):
    """Everything udemy360 needs to run one connection (one Udemy account → one 360 group)."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="__",
        extra="forbid",
        frozen=True,
        case_sensitive=False,
    )

    connection_id: str = "default"
    # A PostgreSQL URL may carry a password: kept out of reprs; redacted() masks it.
    store_url: str = Field(default=f"sqlite:///{DEFAULT_DB_NAME}", repr=False)
    udemy: UdemySettings = UdemySettings()
    learning360: Learning360Settings = Learning360Settings()
    options: OptionSettings = OptionSettings()
    schedule: ScheduleSettings = ScheduleSettings()
    limits: LimitSettings = LimitSettings()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, _EnvSource(settings_cls), _TomlSource(settings_cls))

    @field_validator("store_url")
    @classmethod
    def _check_store_url(cls, value: str) -> str:
        check_store_url(value)
        return value.strip()

    def secret_values(self) -> list[str]:
        """Every secret this configuration holds, for the log scrubber."""
        values = []
        for secret in (self.udemy.client_secret, self.learning360.client_secret):
            if secret is not None:
                values.append(secret.get_secret_value())
        password = _url_password(self.store_url)
        if password:
            values.append(password)
        return values

    def require(self, *settings: str) -> None:
        """Raise ``ConfigError`` naming every dotted setting in ``settings`` that is unset.

        Raises:
            ConfigError: one or more of them is missing.
        """
        problems = []
        for dotted in settings:
            node: object = self
            for part in dotted.split("."):
                node = getattr(node, part)
            if node is None or node == "":
                problems.append(ConfigProblem(dotted, _missing_hint(dotted)))
        if problems:
            raise ConfigError(_format_missing(problems), problems=problems)

    def redacted(self) -> dict[str, object]:
        """Return the effective settings as plain data with secrets masked (for ``config show``)."""
        data = self.model_dump(mode="json")
        for section in ("udemy", "learning360"):
            part = data[section]
            if isinstance(part, dict) and part.get("client_secret") is not None:
                part["client_secret"] = "**********"
        data["store_url"] = safe_store_url(self.store_url)
        return data


# The drivers udemy360 ships: sqlite3 from the standard library and psycopg 3.
_STORE_DRIVERS: Final = frozenset(
    {"sqlite", "sqlite+pysqlite", "postgresql", "postgres", "postgresql+psycopg"}
)
_STORE_EXAMPLES: Final = (
    "'sqlite:////var/lib/udemy360/udemy360.db' (a file) or "
    "'postgresql+psycopg://udemy360@db.example.com:5432/udemy360'"
)


def check_store_url(url: str) -> URL:
    """Return ``url`` parsed if udemy360 can store in it; its password never reaches a message.

    Raises:
        ValueError: not a database URL, another database than SQLite or PostgreSQL, or a port
            outside 1..65535.
    """
    try:
        parsed = make_url(url.strip())
    except (ArgumentError, ValueError):  # ValueError: a port that is not a number
        raise ValueError(f"is not a database URL: write it as {_STORE_EXAMPLES}") from None
    if parsed.drivername not in _STORE_DRIVERS:
        raise ValueError(
            f"names the database driver {parsed.drivername!r}: udemy360 stores in SQLite or "
            f"PostgreSQL (psycopg), e.g. {_STORE_EXAMPLES}"
        )
    if parsed.port is not None and not 1 <= parsed.port <= 65535:
        raise ValueError(_BAD_PORT)
    return parsed


def _url_password(url: str) -> str | None:
    try:
        return make_url(url).password
    except (ArgumentError, ValueError):
        return None


def safe_store_url(url: str) -> str:
    """Return the store URL with its password masked (a PostgreSQL URL may carry one)."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        return "(not a database URL)"
    return parsed.render_as_string(hide_password=True) if parsed.password else url


_HINTS: Final = {
    "udemy.account_name": "the sub-domain of your Udemy Business site ('acme' for acme.udemy.com)",
    "udemy.account_id": "the numeric organization id shown on your Udemy Business API page",
    "udemy.client_id": "create API credentials in Udemy Business: Manage → Settings → API",
    "udemy.client_secret": "the secret shown with the Udemy client id; or set client_secret_file",
    "learning360.client_id": "create API v2 credentials in 360Learning: Settings → API v2",
    "learning360.client_secret": "the secret of those API v2 credentials; or client_secret_file",
    "learning360.group_id": "the id of the group that receives the content (from its URL)",
    "learning360.owner_id": "the id of a user with editor rights in that group",
    "learning360.integration_id": "run 'udemy360 setup' to create or adopt the integration",
}


def _missing_hint(setting: str) -> str:
    return "not set: " + _HINTS.get(setting, "give it a value")


def _format_missing(problems: Sequence[ConfigProblem]) -> str:
    """Say which settings are unset, how to set them all, then what each one is."""
    names = ", ".join(problem.setting for problem in problems)
    variables = ", ".join(problem.env for problem in problems)
    verb = "is" if len(problems) == 1 else "are"
    lines = [
        f"{names} {verb} not set: run 'udemy360 init' to write them to a configuration "
        f"file, or set {variables}"
    ]
    lines += [
        f"  - {problem.setting}: {_HINTS.get(problem.setting, 'give it a value')}"
        for problem in problems
    ]
    return "\n".join(lines)


def _format_problems(problems: Sequence[ConfigProblem]) -> str:
    lines = [f"invalid configuration ({len(problems)} problem(s)):"]
    lines += [f"  - {problem}" for problem in problems]
    return "\n".join(lines)


def _problems_from(error: ValidationError) -> list[ConfigProblem]:
    problems = []
    for item in error.errors(include_input=False, include_url=False):
        setting = ".".join(str(part) for part in item["loc"]) or "(file)"
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            message = "unknown setting: check its spelling against docs/configuration.md"
        problems.append(ConfigProblem(setting, message))
    return problems


# --- loading ------------------------------------------------------------------------------------


def default_config_path(environ: Mapping[str, str]) -> tuple[Path, bool]:
    """Return the config path (``UDEMY360_CONFIG`` or the default) and whether it was explicit."""
    explicit = environ.get(CONFIG_ENV, "").strip()
    if explicit:
        return Path(explicit), True
    return Path(DEFAULT_CONFIG_NAME), False


def read_toml(path: Path) -> dict[str, object]:
    """Parse the TOML file at ``path``.

    Raises:
        ConfigError: the file cannot be read or is not valid TOML.
    """
    path = path.absolute()  # the default is relative to a working directory the reader may not know
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(
            f"configuration file {path} not found: run 'udemy360 init' to create it, "
            f"or pass --config / set {CONFIG_ENV}"
        ) from None
    except OSError as exc:
        raise ConfigError(
            f"cannot read the configuration file {path} ({exc.strerror}): fix its permissions, "
            f"or pass --config / set {CONFIG_ENV} to use another file"
        ) from None
    try:
        text = raw.decode("utf-8-sig")  # a byte-order mark from some editors is harmless
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise ConfigError(
            f"configuration file {path} is not UTF-8 text (first bad byte on line {line}): "
            "save it as UTF-8 (TOML files must be UTF-8)"
        ) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML ({exc}); fix the syntax") from None


@contextmanager
def _loading(toml: Mapping[str, object], box: SecretBox | SecretKeyError | None) -> Iterator[None]:
    toml_token = _TOML.set(toml)
    box_token = _BOX.set(box)
    try:
        yield
    finally:
        _TOML.reset(toml_token)
        _BOX.reset(box_token)


def load_settings(
    path: Path | None = None,
    *,
    must_exist: bool = True,
    environ: Mapping[str, str] | None = None,
    **overrides: object,
) -> Settings:
    """Build ``Settings`` from the TOML file at ``path`` (if any), the environment and overrides.

    ``store_url`` defaults to an SQLite file next to the configuration file. Encrypted values are
    opened with the key from ``UDEMY360_KEY`` or the key file next to the configuration.

    Raises:
        ConfigError: the file is missing (when ``must_exist``), unreadable or a value is invalid.
    """
    toml: dict[str, object] = {}
    config_dir = Path.cwd()
    key_source = path if path is not None else Path(DEFAULT_CONFIG_NAME)
    if path is not None:
        config_dir = path.resolve().parent
        if path.exists() or must_exist:
            toml = read_toml(path)
    toml.setdefault("store_url", f"sqlite:///{config_dir / DEFAULT_DB_NAME}")
    box: SecretBox | SecretKeyError | None
    try:
        key = load_key(key_source, environ)
        box = SecretBox(key) if key is not None else None
    except SecretKeyError as exc:
        box = exc
    with _loading(toml, box):
        try:
            return Settings(**overrides)  # type: ignore[arg-type]
        except ValidationError as exc:
            problems = _problems_from(exc)
            raise ConfigError(_format_problems(problems), problems=problems) from None


# --- writing ------------------------------------------------------------------------------------

_TEMPLATE: Final = """\
# udemy360 configuration. Every value can be overridden from the environment:
# UDEMY360_<SECTION>__<KEY>, e.g. UDEMY360_UDEMY__CLIENT_SECRET. See docs/configuration.md.
# Secrets below are encrypted ("enc:…") with the key in {key_name} (keep it, mode 0600),
# or give them as client_secret_file = "/run/secrets/…".

# Which connection this is in the store (one Udemy account → one 360Learning group).
connection_id = {connection_id}
# Where run history and sync state live (SQLite file or postgresql+psycopg://…).
store_url = {store_url}

[udemy]
# The sub-domain of your Udemy Business site: "acme" for https://acme.udemy.com
account_name = {udemy_account_name}
# The numeric organization id shown on the API page of your Udemy Business site.
account_id = {udemy_account_id}
# Manage → Settings → API (LMS/LXP integrations) in Udemy Business.
client_id = {udemy_client_id}
{udemy_secret_line}
# base_url = "https://acme.udemy.com/api-2.0/organizations/123456/"   # override (tests, proxies)
{udemy_base_url_line}

[learning360]
# "eu" (app.360learning.com) or "us" (app.us.360learning.com), or set base_url.
region = {l360_region}
{l360_base_url_line}
# Settings → API v2 → Add API credentials. Scopes: integrations:read, integrations:write,
# integrations:bulk, bulkOperations:read (+ tags:read, tags:write, courses:write for tags,
# users:read for the owner's language).
client_id = {l360_client_id}
{l360_secret_line}
# The group whose catalog receives the content, and the user who owns it (editor in the group).
group_id = {l360_group_id}
owner_id = {l360_owner_id}
# The platform name learners see on the courses. Filled in by 'udemy360 setup':
platform_name = {l360_platform_name}
{l360_integration_line}

[options]
# Udemy categories as 360Learning tags; public learning paths as courses.
tags = {tags}
learning_paths = {learning_paths}

[schedule]
# Daily run times for 'udemy360 run', local time in the time zone below.
courses = "07:30"
stats = "07:45"
timezone = "Europe/Paris"

[limits]
udemy_concurrency = 4
# udemy_requests_per_second = 5
l360_writes_per_second = 10
l360_reads_per_second = 50
bulk_in_flight = 2
# seconds one request may take, connect to last byte: a stalled server is retried, then an error
request_deadline = 180
# A catalog run that would archive more than this share of the courses stops and asks for
# 'udemy360 sync courses --allow-mass-archive'.
max_archive_share = 0.1
stats_overlap_days = 2
full_stats_every_days = 7
"""


def toml_string(value: str) -> str:
    """Return ``value`` as a TOML basic string."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    escaped = "".join(c if c >= " " else f"\\u{ord(c):04x}" for c in escaped)
    return f'"{escaped}"'


@dataclass(frozen=True, slots=True)
class InitAnswers:
    """What ``udemy360 init`` asked for; secrets are already in their ``enc:`` form."""

    udemy_account_name: str = ""
    udemy_account_id: str = ""
    udemy_client_id: str = ""
    udemy_client_secret_enc: str | None = None
    udemy_base_url: str | None = None
    l360_region: str = "eu"
    l360_base_url: str | None = None
    l360_client_id: str = ""
    l360_client_secret_enc: str | None = None
    l360_group_id: str = ""
    l360_owner_id: str = ""
    l360_platform_name: str = "Udemy"
    l360_integration_id: str | None = None
    tags: bool = False
    learning_paths: bool = False
    connection_id: str = "default"
    store_url: str | None = None


def render_config(answers: InitAnswers, *, config_path: Path) -> str:
    """Return the commented TOML for ``answers``; stored secrets must already be encrypted."""
    for secret in (answers.udemy_client_secret_enc, answers.l360_client_secret_enc):
        if secret is not None and not is_encrypted(secret):
            raise ValueError("render_config only writes encrypted secrets")

    def opt(key: str, value: str | None) -> str:
        return f"{key} = {toml_string(value)}" if value else f"# {key} = "

    store_url = answers.store_url or f"sqlite:///{config_path.resolve().parent / DEFAULT_DB_NAME}"
    return _TEMPLATE.format(
        key_name=key_path_for(config_path).name,
        connection_id=toml_string(answers.connection_id),
        store_url=toml_string(store_url),
        udemy_account_name=toml_string(answers.udemy_account_name),
        udemy_account_id=toml_string(answers.udemy_account_id),
        udemy_client_id=toml_string(answers.udemy_client_id),
        udemy_secret_line=opt("client_secret", answers.udemy_client_secret_enc),
        udemy_base_url_line=opt("base_url", answers.udemy_base_url),
        l360_region=toml_string(answers.l360_region),
        l360_base_url_line=opt("base_url", answers.l360_base_url),
        l360_client_id=toml_string(answers.l360_client_id),
        l360_secret_line=opt("client_secret", answers.l360_client_secret_enc),
        l360_group_id=toml_string(answers.l360_group_id),
        l360_owner_id=toml_string(answers.l360_owner_id),
        l360_platform_name=toml_string(answers.l360_platform_name),
        l360_integration_line=opt("integration_id", answers.l360_integration_id),
        tags=str(answers.tags).lower(),
        learning_paths=str(answers.learning_paths).lower(),
    )


def write_config_value(path: Path, section: str, key: str, value: str) -> None:
    """Set ``key = "value"`` in ``[section]`` of the TOML file, keeping comments and layout.

    Used by ``setup`` to record the integration id. The line is replaced in place (also when it
    is commented out as ``# key =``), or added at the end of the section.
    """
    lines = path.read_text(encoding="utf-8").splitlines()
    new_line = f"{key} = {toml_string(value)}"
    header = re.compile(r"^\s*\[([^\]]+)\]\s*(#.*)?$")
    assign = re.compile(rf"^\s*(#\s*)?{re.escape(key)}\s*=")
    current: str | None = None
    start: int | None = None
    end = len(lines)
    for index, line in enumerate(lines):
        match = header.match(line)
        if match:
            if current == section:
                end = index
                break
            current = match[1].strip()
            if current == section:
                start = index
    if start is None:
        lines += ["", f"[{section}]", new_line]
    else:
        section_lines = range(start + 1, end)
        matches = [i for i in section_lines if assign.match(lines[i])]
        real = [i for i in matches if not lines[i].lstrip().startswith("#")]
        commented = [i for i in matches if i not in real]
        if real:
            lines[real[0]] = new_line
        elif commented:
            lines[commented[0]] = new_line
        else:
            insert_at = end
            while insert_at > start + 1 and not lines[insert_at - 1].strip():
                insert_at -= 1
            lines.insert(insert_at, new_line)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
