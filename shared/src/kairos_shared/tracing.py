"""OpenTelemetry traces that follow a request from HTTP through the outbox and Kafka to every
consumer, off unless configured.

Each app has its own :class:`Tracing` (no global tracer provider: several services share a
process in tests). Without a provider it hands out the API's no-op tracer: no span is recorded,
but an incoming W3C ``traceparent`` still flows on (a no-op span carries its parent's context).

- :class:`TracingMiddleware` opens a server span per HTTP request, continuing the caller's
  ``traceparent``;
- :func:`kairos_shared.outbox.append` stores the current context with each row as Kafka headers
  (``traceparent``, ``tracestate``: :func:`with_trace_headers`), which the relay publishes as is;
- :func:`consumer_span` opens the span a consumer processes a record in, child of the span that
  wrote the record to the outbox, so the events that consumer writes continue the same trace.

``KAIROS_OTEL_TRACES_EXPORTER`` chooses where spans go: ``none`` (default), ``console`` or
``otlp`` (OTLP over HTTP to ``KAIROS_OTEL_EXPORTER_OTLP_ENDPOINT``): :func:`build_tracer_provider`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Literal

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider as SdkTracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter
from opentelemetry.trace import Span, SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from starlette.types import ASGIApp, Message, Receive, Scope, Send

TracesExporter = Literal["none", "console", "otlp"]
TRACEPARENT = "traceparent"
TRACESTATE = "tracestate"
_TRACE_HEADERS = frozenset({TRACEPARENT, TRACESTATE})
_PROPAGATOR = TraceContextTextMapPropagator()
_INSTRUMENTATION = "kairos_shared"
_OTLP_TRACES_PATH = "/v1/traces"
_SERVER_ERROR = 500
_KNOWN_METHODS = frozenset(
    {"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"}
)

Headers = Sequence[tuple[str, bytes]]


def build_tracer_provider(
    service_name: str, exporter: TracesExporter, *, otlp_endpoint: str | None = None
) -> SdkTracerProvider | None:
    """A provider exporting in batches to `exporter`; None for ``none`` (the no-op API)."""
    if exporter == "none":
        return None
    span_exporter: SpanExporter
    if exporter == "console":
        span_exporter = ConsoleSpanExporter(service_name=service_name)
    else:
        # Only imported when asked: it pulls in protobuf and requests.
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import (  # noqa: PLC0415 - optional exporter
            OTLPSpanExporter,
        )

        span_exporter = OTLPSpanExporter(endpoint=otlp_traces_url(otlp_endpoint))
    provider = SdkTracerProvider(resource=Resource.create({SERVICE_NAME: service_name}))
    provider.add_span_processor(BatchSpanProcessor(span_exporter))
    return provider


def otlp_traces_url(endpoint: str | None) -> str | None:
    """The traces URL for an OTLP/HTTP base endpoint (``http://collector:4318``), as the
    ``OTEL_EXPORTER_OTLP_ENDPOINT`` convention has it; None leaves the exporter's default."""
    if endpoint is None:
        return None
    base = endpoint.rstrip("/")
    return base if base.endswith(_OTLP_TRACES_PATH) else base + _OTLP_TRACES_PATH


class Tracing:
    """The tracer provider of one service app (or none: the no-op tracer), and its tracer."""

    def __init__(self) -> None:
        self._provider: trace.TracerProvider | None = None
        self._owned = False
        self._tracer: trace.Tracer = trace.NoOpTracer()

    @property
    def tracer(self) -> trace.Tracer:
        return self._tracer

    @property
    def enabled(self) -> bool:
        return self._provider is not None

    def use(self, provider: trace.TracerProvider, *, owned: bool = False) -> None:
        """Trace with `provider` from now on; :meth:`shutdown` stops it when `owned` (tests and
        embedders give theirs, not owned: they shut it down)."""
        self._provider, self._owned = provider, owned
        self._tracer = provider.get_tracer(_INSTRUMENTATION)

    def shutdown(self) -> None:
        """Flush and stop the provider this app owns, then go back to the no-op tracer (a
        provider it was given stays in use: its owner stops it)."""
        if not self._owned:
            return
        provider = self._provider
        self._provider, self._owned, self._tracer = None, False, trace.NoOpTracer()
        if isinstance(provider, SdkTracerProvider):
            provider.shutdown()


def with_trace_headers(
    headers: Headers, context: Context | None = None
) -> tuple[tuple[str, bytes], ...]:
    """`headers` plus the W3C trace context of `context` (default: the current one), unless
    they already carry one or there is no valid span."""
    if any(name == TRACEPARENT for name, _ in headers):
        return tuple(headers)
    carrier: dict[str, str] = {}
    _PROPAGATOR.inject(carrier, context=context)
    extra = [(name, value.encode()) for name, value in carrier.items() if name in _TRACE_HEADERS]
    return (*headers, *extra)


def context_from_headers(headers: Headers) -> Context:
    """The trace context a Kafka record carries (an empty context when none or malformed)."""
    carrier = {name: value.decode("latin-1") for name, value in headers if name in _TRACE_HEADERS}
    return _PROPAGATOR.extract(carrier)


@contextmanager
def consumer_span(
    tracing: Tracing, *, topic: str, partition: int, offset: int, headers: Headers, group: str
) -> Iterator[Span]:
    """The span a consumer processes one record in, child of the record's ``traceparent``."""
    attributes: dict[str, str | int] = {
        "messaging.system": "kafka",
        "messaging.operation.type": "process",
        "messaging.destination.name": topic,
        "messaging.destination.partition.id": str(partition),
        "messaging.kafka.offset": offset,
        "messaging.consumer.group.name": group,
    }
    event_id = next((value for name, value in headers if name == "ce_id"), None)
    if event_id is not None:
        attributes["messaging.message.id"] = event_id.decode("latin-1")
    with tracing.tracer.start_as_current_span(
        f"process {topic}",
        context=context_from_headers(headers),
        kind=SpanKind.CONSUMER,
        attributes=attributes,
    ) as span:
        yield span


class TracingMiddleware:
    """Pure ASGI middleware: a server span per HTTP request, named after its route template."""

    def __init__(self, app: ASGIApp, tracing: Tracing) -> None:
        self.app = app
        self.tracing = tracing

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {
            name.decode("latin-1").lower(): value.decode("latin-1")
            for name, value in scope["headers"]
            if name.decode("latin-1").lower() in _TRACE_HEADERS
        }
        method = http_method(scope)
        with self.tracing.tracer.start_as_current_span(
            method,
            context=_PROPAGATOR.extract(headers),
            kind=SpanKind.SERVER,
            attributes={"http.request.method": method, "url.path": scope["path"]},
            record_exception=True,
            set_status_on_exception=True,
        ) as span:
            status: list[int] = []

            async def send_observing(message: Message) -> None:
                if message["type"] == "http.response.start":
                    status.append(message["status"])
                await send(message)

            try:
                await self.app(scope, receive, send_observing)
            finally:
                _name_after_route(span, scope, method, status[0] if status else _SERVER_ERROR)


def http_method(scope: Scope) -> str:
    """The request's method, or ``_OTHER`` for anything odd (bounded span names and labels)."""
    method = str(scope["method"])
    return method if method in _KNOWN_METHODS else "_OTHER"


def route_template(scope: Scope) -> str | None:
    """The path template of the route that served the request (``/v1/x/{id}``), if any."""
    route = scope.get("route")
    template = getattr(route, "path_format", None) or getattr(route, "path", None)
    return template if isinstance(template, str) else None


def _name_after_route(span: Span, scope: Scope, method: str, status: int) -> None:
    route = route_template(scope)
    if route is not None:
        span.update_name(f"{method} {route}")
        span.set_attribute("http.route", route)
    span.set_attribute("http.response.status_code", status)
    if status >= _SERVER_ERROR:
        span.set_status(Status(StatusCode.ERROR))
