"""An organisation's habilitation list (K15, CGU §4.1.3): for its RGC and head, and for
operators at any time, as JSON or CSV, with each habilitation's usage."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from kairos_habilitation.adapters import habilitations
from kairos_habilitation.adapters.habilitations import ListedHabilitation
from kairos_habilitation.domain.usage import effective_status, is_unused
from kairos_habilitation.service_layer.access import Actor, reader_scope
from kairos_habilitation.service_layer.context import HabilitationContext

Which = Literal["live", "ended", "all"]
STATUSES: dict[Which, Sequence[str]] = {
    "live": ("pending_account", "active"),
    "ended": ("ended",),
    "all": ("pending_account", "active", "ended"),
}
CSV_COLUMNS = (
    "habilitation_id", "role", "first_name", "last_name", "email", "function", "status",
    "effective_status", "account_id", "recorded_at", "recorded_by", "signed_by", "signed_on",
    "document_sha256", "employee_attested", "activated_at", "last_login_at", "unused",
    "ended_at", "end_reason", "ended_by",
)  # fmt: skip


@dataclass(frozen=True)
class HabilitationLine:
    listed: ListedHabilitation
    effective_status: str
    unused: bool

    def row(self) -> dict[str, object]:
        h, listed = self.listed.habilitation, self.listed
        return {
            "habilitation_id": h.id, "role": h.role.value, "first_name": h.person.first_name,
            "last_name": h.person.last_name, "email": h.person.email, "function": h.function,
            "status": h.status.value, "effective_status": self.effective_status,
            "account_id": h.account_id, "recorded_at": _iso(h.recorded_at),
            "recorded_by": h.recorded_by, "signed_by": h.authorisation.signed_by,
            "signed_on": h.authorisation.signed_on.isoformat(),
            "document_sha256": h.authorisation.document_sha256,
            "employee_attested": h.employee_attested, "activated_at": _iso(listed.activated_at),
            "last_login_at": _iso(listed.last_login_at), "unused": self.unused,
            "ended_at": _iso(h.ended_at), "end_reason": h.end_reason and h.end_reason.value,
            "ended_by": listed.ended_by,
        }  # fmt: skip


def _iso(instant: datetime | None) -> str | None:
    return None if instant is None else instant.isoformat()


async def habilitation_list(
    context: HabilitationContext, actor: Actor, organisation_id: uuid.UUID, which: Which
) -> list[HabilitationLine]:
    now = context.clock.now()
    async with context.pool.acquire() as connection, connection.transaction(readonly=True):
        scope = await reader_scope(context, connection, actor, organisation_id)
        listed = await habilitations.list_of_organisation(
            connection, organisation_id, STATUSES[which]
        )
    status = scope.organisation.status
    return [
        HabilitationLine(
            item,
            effective_status(item.habilitation, status),
            is_unused(
                item.habilitation, item.activated_at, item.last_login_at, now, context.unused_after
            ),
        )
        for item in listed
    ]


def as_csv(lines: Sequence[HabilitationLine]) -> str:
    """RFC 4180 CSV with a header row; cells starting like a formula are quoted with a
    leading apostrophe (CSV injection in spreadsheets)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for line in lines:
        writer.writerow({k: _cell(v) for k, v in line.row().items()})
    return buffer.getvalue()


def _cell(value: object) -> object:
    if isinstance(value, str) and value[:1] in {"=", "+", "-", "@", "\t", "\r"}:
        return "'" + value
    return "" if value is None else value
