"""Flags of the annual review (K14): the habilitations left undecided at a campaign's deadline,
with "flag_to_operator" as the configured default, are listed to the operators per
organisation and across organisations; an operator answers them with a demand (K15, see
:func:`kairos_habilitation.service_layer.demands.issue`, ``flag_ids``)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from kairos_habilitation.adapters import flags
from kairos_habilitation.adapters.flags import HabilitationFlag
from kairos_habilitation.service_layer.access import Actor, reader_scope, require_operator
from kairos_habilitation.service_layer.context import HabilitationContext
from kairos_shared.db import Connection
from kairos_shared.problems import FieldError, invalid_fields

LISTED_AT_MOST = 1000
"""Flags listed in one answer, the longest waiting first."""


async def listed(
    context: HabilitationContext,
    actor: Actor,
    organisation_id: uuid.UUID | None,
    *,
    open_only: bool,
) -> list[HabilitationFlag]:
    """Operators only: the flags of one organisation (None: of every organisation)."""
    require_operator(actor)
    async with context.pool.acquire() as connection, connection.transaction(readonly=True):
        if organisation_id is not None:
            await reader_scope(context, connection, actor, organisation_id)
        return await flags.listed(
            connection, organisation_id=organisation_id, open_only=open_only,
            limit=LISTED_AT_MOST,
        )  # fmt: skip


async def answerable(
    connection: Connection, organisation_id: uuid.UUID, flag_ids: Sequence[uuid.UUID]
) -> list[HabilitationFlag]:
    """The flags a demand answers, locked; 422 naming each one that is not an open flag of the
    organisation."""
    found = await flags.for_update(connection, flag_ids)
    errors: list[FieldError] = []
    for index, flag_id in enumerate(flag_ids):
        flag = found.get(flag_id)
        if flag is None or flag.organisation_id != organisation_id:
            why = f"no flag {flag_id} in this organisation"
        elif flag_id in flag_ids[:index]:
            why = "named twice"
        elif flag.status != "open":
            why = f"flag {flag_id} is {flag.status}: only an open flag is answered by a demand"
        else:
            continue
        errors.append(FieldError(f"flag_ids[{index}]", why))
    if errors:
        raise invalid_fields(errors)
    return [found[flag_id] for flag_id in flag_ids]
