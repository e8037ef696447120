"""One structlog configuration for every service: JSON lines (or a console view), with the
service name, the trace and span ids when a span is active, and secrets redacted from every
event, ours and the libraries' (stdlib logging is routed through the same processors)."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Mapping, MutableMapping
from typing import Any

import structlog
from opentelemetry import trace
from structlog.typing import EventDict, Processor, WrappedLogger

REDACTED = "[redacted]"
# The names of secrets (not a secret: S105 is a false positive here).
_SECRET_WORDS = r"pass(?:word)?|passwd|secret|token|authorization|api[_-]?key|credential|cookie|dsn"  # noqa: S105 - names, not a secret
#: Longer strings are cut before they are searched and logged: a log line is for a human, and a
#: record's attributes (``ce_id``…) are the sender's choice.
MAX_LOGGED_TEXT = 8192
# Every pattern below reads its input in linear time: each repetition is possessive (``++``,
# ``*+``: never given back) and may only start where the previous character cannot continue it
# (the look-behinds), so no two repetitions compete for the same characters. The former
# ``[\w-]*(?:token|…)[\w-]*`` took 7 s on ``"token" * 400`` (a Kafka record's ``ce_id``).
# "password=…", "'refresh_token': '…'", "token: …" inside free text (a formatted library message):
# a key and its separator; the key is tested for a secret word, then the value is cut.
_KEY_AND_SEPARATOR = re.compile(r"(?<![\w-])[\w-]++['\"]?\s*+[:=]\s*+['\"]?")
_INLINE_VALUE = re.compile(r"[^'\"\s,;{}\[\]()&]++")
_SECRET_KEY = re.compile(_SECRET_WORDS, re.IGNORECASE)
_BEARER = re.compile(r"(?i)\b(bearer|basic)\s++[A-Za-z0-9._~+/=-]++")
# A password in a URL's user information (which cannot hold a "/": RFC 3986 §3.2.1).
_URL_PASSWORD = re.compile(
    r"(?<![a-z0-9+.-])(?P<scheme>[a-z][a-z0-9+.-]*+://[^:/@\s]++:)[^@\s/]++@", re.IGNORECASE
)


def _redact_inline_secrets(text: str) -> str:
    parts: list[str] = []
    copied = 0
    position = 0
    while (pair := _KEY_AND_SEPARATOR.search(text, position)) is not None:
        position = pair.end()
        if _SECRET_KEY.search(pair.group()) is None:
            continue
        value = _INLINE_VALUE.match(text, position)
        if value is None:
            continue
        parts += [text[copied:position], REDACTED]
        copied = position = value.end()
    return "".join(parts) + text[copied:] if parts else text


def redact_text(text: str) -> str:
    """``text`` without bearer tokens, ``password=…``-like pairs, or passwords in URLs; cut to
    :data:`MAX_LOGGED_TEXT` characters first."""
    if len(text) > MAX_LOGGED_TEXT:
        text = f"{text[:MAX_LOGGED_TEXT]}…[{len(text) - MAX_LOGGED_TEXT} characters cut]"
    text = _BEARER.sub(lambda m: f"{m.group(1)} {REDACTED}", text)
    text = _redact_inline_secrets(text)
    return _URL_PASSWORD.sub(lambda m: f"{m.group('scheme')}{REDACTED}@", text)


def _redact_value(value: Any) -> Any:
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, Mapping):
        return {key: _redact_item(key, item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_redact_value(item) for item in value]
    return value


def _redact_item(key: object, value: Any) -> Any:
    if isinstance(key, str) and _SECRET_KEY.search(key) and value is not None:
        return REDACTED
    return _redact_value(value)


def redact_secrets(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
    """Replace values of secret-looking keys, bearer tokens and URL passwords."""
    return {key: _redact_item(key, value) for key, value in event_dict.items()}


def _add_service(service: str) -> Processor:
    def add_service(_: WrappedLogger, __: str, event_dict: MutableMapping[str, Any]) -> Any:
        event_dict.setdefault("service", service)
        return event_dict

    return add_service


def add_trace_ids(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
    """``trace_id`` and ``span_id`` (W3C hex) of the active span, to find a line's trace."""
    context = trace.get_current_span().get_span_context()
    if context.is_valid:
        event_dict.setdefault("trace_id", format(context.trace_id, "032x"))
        event_dict.setdefault("span_id", format(context.span_id, "016x"))
    return event_dict


class _CurrentStderrHandler(logging.StreamHandler):  # type: ignore[type-arg]  # stream is a property
    """Writes to whatever ``sys.stderr`` is at the time of the record (test capture included)."""

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _: Any) -> None:
        pass


def configure_logging(service: str, *, level: str = "INFO", fmt: str = "json") -> None:
    """Configure structlog and stdlib logging once for this process."""
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _add_service(service),
        add_trace_ids,
        structlog.processors.format_exc_info,
        redact_secrets,
    ]
    renderer: Processor = (
        structlog.processors.JSONRenderer()
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = _CurrentStderrHandler()
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("uvicorn.access", "aiokafka"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
