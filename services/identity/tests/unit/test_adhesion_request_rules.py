"""K1: a request is rejected only while pending, expires after its validity, and only a live
organisation holds its SIRET."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from kairos_identity.domain import organisations as rules
from kairos_identity.domain.organisations import OrganisationAccess, OrganisationStatus

REQUESTED_AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
PENDING = OrganisationAccess(OrganisationStatus.REQUESTED)


def test_a_pending_request_is_rejected_and_its_siret_freed() -> None:
    rejected = rules.reject(PENDING)
    assert rejected.status is OrganisationStatus.REJECTED
    assert rejected.status not in rules.LIVE_STATUSES


@pytest.mark.parametrize(
    "status", [s for s in OrganisationStatus if s is not OrganisationStatus.REQUESTED]
)
def test_only_a_pending_request_is_rejected(status: OrganisationStatus) -> None:
    with pytest.raises(rules.OrganisationStateError, match="cannot reject"):
        rules.reject(OrganisationAccess(status))


def test_a_request_expires_at_the_end_of_its_validity_and_not_before() -> None:
    validity = timedelta(days=30)
    end = REQUESTED_AT + validity
    assert not rules.request_has_expired(PENDING, REQUESTED_AT, end - timedelta(seconds=1))
    assert rules.request_has_expired(PENDING, REQUESTED_AT, end, validity)
    assert rules.expire_request(PENDING).status is OrganisationStatus.REQUEST_EXPIRED
    validated = rules.validate(PENDING, REQUESTED_AT)
    assert not rules.request_has_expired(validated, REQUESTED_AT, end + validity)


def test_the_live_statuses_hold_the_siret() -> None:
    assert {
        OrganisationStatus.REQUESTED,
        OrganisationStatus.ACTIVE,
        OrganisationStatus.SUSPENDED,
    } == rules.LIVE_STATUSES
