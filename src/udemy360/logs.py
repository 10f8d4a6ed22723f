"""Structured logging: structlog in front of the standard library, JSON or console output.

Every line carries the run id and connection bound with ``bind_run`` (contextvars), and passes
through a scrubber that removes known secret values and any ``authorization``/token/secret field,
so a secret that slips into a message or an exception text never reaches the log.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable, Iterator, MutableMapping
from contextlib import contextmanager
from typing import Final, Literal, TextIO

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

from udemy360._http import Redactor

LogFormat = Literal["json", "console"]

REDACTED: Final = "REDACTED"
# Field names whose values are secrets whatever they hold.
_SECRET_KEYS: Final = frozenset(
    {
        "authorization",
        "access_token",
        "token",
        "client_secret",
        "secret",
        "password",
        "api_key",
        "key",
        "cookie",
        "set-cookie",
    }
)


class SecretScrubber:
    """A structlog processor that redacts secret fields and known secret values everywhere."""

    __slots__ = ("_redactor", "_secrets")

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets = list(secrets)
        self._redactor = Redactor(self._secrets)

    def add(self, secrets: Iterable[str]) -> None:
        """Also scrub ``secrets`` (values learned after logging was configured)."""
        self._secrets += list(secrets)
        self._redactor = Redactor(self._secrets)

    def scrub(self, text: str) -> str:
        """Return ``text`` with every known secret value replaced."""
        return self._redactor(text)

    def _clean(self, value: object) -> object:
        if isinstance(value, str):
            return self._redactor(value)
        if isinstance(value, dict):
            return {
                k: REDACTED if str(k).lower() in _SECRET_KEYS else self._clean(v)
                for k, v in value.items()
            }
        if isinstance(value, list | tuple):
            return type(value)(self._clean(v) for v in value)
        if isinstance(value, BaseException):
            return self._redactor(f"{type(value).__name__}: {value}")
        return value

    def __call__(self, logger: WrappedLogger, method: str, event_dict: EventDict) -> EventDict:
        for key in list(event_dict):
            if key.lower() in _SECRET_KEYS:
                event_dict[key] = REDACTED
            else:
                event_dict[key] = self._clean(event_dict[key])
        return event_dict

    def __repr__(self) -> str:
        return "SecretScrubber(<secrets>)"


class _ScrubRendered:
    """Last-chance scrub of the rendered line (tracebacks are rendered after the processors)."""

    __slots__ = ("_scrubber",)

    def __init__(self, scrubber: SecretScrubber) -> None:
        self._scrubber = scrubber

    def __call__(self, logger: WrappedLogger, method: str, event_dict: EventDict) -> EventDict:
        for key in ("exception", "stack"):
            if isinstance(event_dict.get(key), str):
                event_dict[key] = self._scrubber._clean(event_dict[key])
        return event_dict


_scrubber = SecretScrubber()


def configure_logging(
    *,
    fmt: LogFormat = "console",
    verbose: bool = False,
    secrets: Iterable[str] = (),
    stream: TextIO | None = None,
) -> SecretScrubber:
    """Route structlog and standard-library logging to ``stream`` (stderr) in ``fmt``.

    Returns the scrubber so callers can add secrets learned later (e.g. after loading settings).
    """
    global _scrubber
    _scrubber = SecretScrubber(secrets)
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _scrubber,
    ]
    renderer: Processor
    if fmt == "json":
        renderer = structlog.processors.JSONRenderer()
        shared_tail: list[Processor] = [
            structlog.processors.format_exc_info,
            _ScrubRendered(_scrubber),
        ]
    else:
        renderer = structlog.dev.ConsoleRenderer(colors=False)
        shared_tail = []
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            *shared_tail,
            renderer,
        ],
    )
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(formatter)
    handler.addFilter(_RenderedFilter(_scrubber))
    root = logging.getLogger()
    for old in list(root.handlers):
        if getattr(old, "_udemy360", False):
            root.removeHandler(old)
    handler._udemy360 = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    # httpx logs every request URL at INFO; ours are already summarised.
    logging.getLogger("httpx").setLevel(logging.DEBUG if verbose else logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.DEBUG if verbose else logging.WARNING)
    return _scrubber


class _RenderedFilter(logging.Filter):
    """Scrubs the stdlib record's own message and args before formatting."""

    def __init__(self, scrubber: SecretScrubber) -> None:
        super().__init__()
        self._scrubber = scrubber

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str) and not record.args:
            record.msg = str(self._scrubber._clean(record.msg))
        elif record.args:
            try:
                message = record.getMessage()
            except (TypeError, ValueError):
                return True
            record.msg, record.args = str(self._scrubber._clean(message)), None
        return True


def add_secrets(secrets: Iterable[str]) -> None:
    """Scrub ``secrets`` from every later log line."""
    _scrubber.add(secrets)


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    """Return a structlog logger named ``name``."""
    logger: structlog.stdlib.BoundLogger = structlog.stdlib.get_logger(name)
    return logger


@contextmanager
def bind_run(
    *, connection: str, run_id: int | str | None = None, job: str | None = None
) -> Iterator[None]:
    """Attach ``connection``, ``run_id`` and ``job`` to every log line in the block."""
    values: MutableMapping[str, object] = {"connection": connection}
    if run_id is not None:
        values["run_id"] = run_id
    if job is not None:
        values["job"] = job
    with structlog.contextvars.bound_contextvars(**values):
        yield


def reset_logging() -> None:
    """Remove the handler ``configure_logging`` installed (tests, embedding applications)."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_udemy360", False):
            root.removeHandler(handler)
    structlog.reset_defaults()
