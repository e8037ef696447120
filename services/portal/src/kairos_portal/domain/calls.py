"""A call to one of the four services and its answer, as plain values: what the adapters
send and the service layer reads (no transport library here)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from kairos_portal.domain.problems import ServiceProblem

Service = Literal["identity", "habilitation", "declaration", "notification"]


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)
    text: str = ""


class ServiceRefused(Exception):  # noqa: N818 - a refusal, as the service said it
    """A service answered with a problem (4xx/5xx)."""

    def __init__(self, problem: ServiceProblem) -> None:
        super().__init__(f"{problem.status} {problem.type}: {problem.detail}")
        self.problem = problem


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    json: Any = None
    content: bytes | None = None
    content_type: str | None = None
    params: dict[str, str] | None = None
    idempotency_key: str | None = None
