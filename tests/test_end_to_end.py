"""The whole story across the four running services, Kafka, PostgreSQL and the SMTP sink, as
`make run` starts them and `make demo` tells it (:mod:`kairos_devstack.story`): nothing in
process, nothing faked; only the stack's shared clock is moved, to let 21 days pass."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from kairos_devstack.stack_process import StackProcess, fresh_stack
from kairos_devstack.story import tell_the_story
from kairos_devstack.story_clients import Endpoints
from kairos_schemas import declaration as contracts

pytestmark = [pytest.mark.slow, pytest.mark.infra]  # runs its own stack


@pytest.fixture
def stack() -> Iterator[StackProcess]:
    with fresh_stack("kairos-test-story-") as running:
        yield running


async def test_the_whole_story_from_adhesion_to_the_head_told_it_holds_the_rgc_rights(
    stack: StackProcess,
) -> None:
    told: list[str] = []
    result = await tell_the_story(Endpoints.of_local_stack(stack.root, stack.ports), told.append)

    assert [line.split(".", 1)[0] for line in told if line[:1].isdigit()] == [
        str(step) for step in range(1, 23)
    ]  # every step happened, in order
    assert [(mail.kind, mail.recipient.split(".", 1)[0]) for mail in result.mails] == [
        ("rgc_account_created", "paul"),  # the RGC, after the operator's validation
        ("account_created", "fanny"),  # the habilitated trainer
        ("rgc_post_vacant_head_in_charge", "ines"),  # the head, when the first RGC left
        ("rgc_post_vacant_head_in_charge", "ines"),  # the head, on day 21
        ("rgc_post_vacant_head_in_charge", "jeanne"),  # the other OF's head, without an account
        ("rgc_account_created", "lea"),  # its new RGC, after the operator's validation
    ]
    departure, day_21 = result.mails[2:4]
    assert "départ de l'organisme du RGC" in departure.text
    assert "compte du RGC non activé dans les 21 jours" in day_21.text
    assert [line for line in told if line.startswith("17.")] == [
        f"17. The post is vacant; e-mail to the head: « {day_21.subject} »"
    ]
    for mail in result.mails:
        assert "Organisme de démonstration" in mail.subject  # read back from the SMTP sink
        assert "Organisme de démonstration" in mail.html
        assert "Organisme de démonstration" in mail.text
        assert not [secret for secret in result.secrets_shown if secret in mail.text + mail.html]
    # 7 provisional passwords (operator, 2 first RGCs, trainer, head, 2 designated RGCs) and the
    # chosen one
    assert len(result.secrets_shown) == 8

    types = [event_type for event_type, _ in result.integrator_events]
    assert types == [contracts.EntryDeclared.event_type, contracts.AttendanceDeclared.event_type]
    entry, attendance = (data for _, data in result.integrator_events)
    assert entry["organisation_id"] == attendance["organisation_id"] == result.organisation_id
    assert attendance["attended_hours"] == 70

    assert result.refusal_status in {401, 403}
    assert result.vacancy["rgc_account_id"] is None
    assert result.vacancy["head_account_id"] is not None
    assert result.vacancy["rgc_rights_held_by"] == result.vacancy["head_account_id"]
    # The OF locked out (no RGC, no head account) recovered through a validated designation.
    assert result.recovered["rgc_account_id"] is not None
    assert result.recovered["rgc_rights_held_by"] == result.recovered["rgc_account_id"]
