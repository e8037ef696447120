"""Whether the four services agree: each keeps its own view of the others' events, so once the
platform is quiet (outboxes drained, consumers caught up) those views must match the state of
the service that owns the facts. Pure functions over rows already read (:mod:`kairos_cli.reconcile`
reads them): one :class:`Disagreement` per fact a view gets wrong.

What is compared, owner first:
- organisations' access status: identity → habilitation, declaration;
- habilitations: habilitation → identity's accounts (an ended habilitation's account is
  closed, a live one's is not), declaration's declarers (ended, suspended, account),
  notification's recipients (the account);
- the RGC in office: habilitation's post → declaration's RGC terms, notification's recipients;
- lapsed accounts: identity → declaration;
- nothing left behind: no unpublished outbox row, no e-mail still queued past its due time.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

Row = Mapping[str, Any]
ORGANISATION_STATUSES = {"active", "suspended", "withdrawn", "expired"}
_CLOSED_ACCOUNT = {"disabled", "lapsed"}  # an ended habilitation's account, or a lapsed one


@dataclass(frozen=True, order=True)
class Disagreement:
    check: str
    subject: str
    detail: str


@dataclass(frozen=True)
class Snapshot:
    """The rows each service holds (read while the platform is quiet)."""

    identity_organisations: list[Row]
    identity_accounts: list[Row]
    habilitation_organisations: list[Row]
    habilitations: list[Row]
    rgc_posts: list[Row]
    declaration_organisations: list[Row]
    declarers: list[Row]
    rgc_terms: list[Row]
    lapsed_accounts: list[Row]
    recipient_organisations: list[Row]
    recipient_habilitations: list[Row]
    unpublished: Mapping[str, int]
    """Per service: outbox rows not yet published."""
    overdue_emails: int


def _by(rows: Iterable[Row], key: str) -> dict[str, Row]:
    return {str(row[key]): row for row in rows}


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def organisations(snapshot: Snapshot) -> list[Disagreement]:
    owner = {
        key: row["status"]
        for key, row in _by(snapshot.identity_organisations, "id").items()
        if row["status"] in ORGANISATION_STATUSES  # validated: the others learnt of it
    }
    found: list[Disagreement] = []
    views = {
        "habilitation": _by(snapshot.habilitation_organisations, "id"),
        "declaration": _by(snapshot.declaration_organisations, "organisation_id"),
    }
    for service, view in views.items():
        for organisation_id, status in owner.items():
            seen = view.get(organisation_id)
            if seen is None:
                found.append(Disagreement(
                    "organisation", organisation_id, f"{service} does not know it ({status})"
                ))  # fmt: skip
            elif seen["status"] != status:
                found.append(Disagreement(
                    "organisation", organisation_id,
                    f"identity says {status}, {service} says {seen['status']}",
                ))  # fmt: skip
    return found


def habilitations(snapshot: Snapshot) -> list[Disagreement]:
    accounts = {
        str(row["habilitation_id"]): row
        for row in snapshot.identity_accounts
        if row["habilitation_id"] is not None
    }
    declarers = _by(snapshot.declarers, "habilitation_id")
    recipients = _by(snapshot.recipient_habilitations, "habilitation_id")
    found: list[Disagreement] = []
    for habilitation_id, habilitation in _by(snapshot.habilitations, "id").items():
        status, account_id = habilitation["status"], _text(habilitation["account_id"])
        if status == "pending_account":
            found.append(Disagreement(
                "habilitation", habilitation_id, "still waiting for its account"
            ))  # fmt: skip
            continue
        account = accounts.get(habilitation_id)
        if account is None or _text(account["id"]) != account_id:
            found.append(Disagreement(
                "habilitation", habilitation_id, f"identity has no account {account_id} for it"
            ))  # fmt: skip
        elif (status == "ended") != (account["status"] in _CLOSED_ACCOUNT):
            found.append(Disagreement(
                "habilitation", habilitation_id,
                f"habilitation {status}, identity's account {account['status']}",
            ))  # fmt: skip
        elif status != "ended" and (account["habilitation_suspended_at"] is None) != (
            habilitation["suspended_at"] is None
        ):
            found.append(Disagreement(
                "habilitation", habilitation_id,
                f"suspended since {habilitation['suspended_at']} here, "
                f"{account['habilitation_suspended_at']} at identity",
            ))  # fmt: skip
        found += _declarer(habilitation_id, habilitation, declarers.get(habilitation_id))
        recipient = recipients.get(habilitation_id)
        if recipient is None or _text(recipient["account_id"]) != account_id:
            found.append(Disagreement(
                "habilitation", habilitation_id,
                f"notification knows account {recipient and _text(recipient['account_id'])}, "
                f"not {account_id}",
            ))  # fmt: skip
    return found


def _declarer(habilitation_id: str, habilitation: Row, declarer: Row | None) -> list[Disagreement]:
    if declarer is None:
        return [Disagreement("habilitation", habilitation_id, "declaration does not know it")]
    found = []
    ended, suspended = habilitation["status"] == "ended", habilitation["suspended_at"] is not None
    if (declarer["ended_at"] is not None) != ended:
        found.append(Disagreement(
            "habilitation", habilitation_id,
            f"habilitation {habilitation['status']}, declaration ended_at {declarer['ended_at']}",
        ))  # fmt: skip
    if not ended and bool(declarer["suspended"]) != suspended:
        found.append(Disagreement(
            "habilitation", habilitation_id,
            f"suspended: habilitation {suspended}, declaration {declarer['suspended']}",
        ))  # fmt: skip
    if _text(declarer["account_id"]) != _text(habilitation["account_id"]):
        found.append(Disagreement(
            "habilitation", habilitation_id,
            f"declaration knows account {declarer['account_id']}, "
            f"not {habilitation['account_id']}",
        ))  # fmt: skip
    return found


def rgc_posts(snapshot: Snapshot) -> list[Disagreement]:
    in_office: dict[str, set[str]] = {}
    for term in snapshot.rgc_terms:
        if term["took_office_at"] is not None and term["vacated_at"] is None:
            in_office.setdefault(str(term["organisation_id"]), set()).add(str(term["account_id"]))
    recipients = _by(snapshot.recipient_organisations, "id")
    found: list[Disagreement] = []
    for organisation_id, post in _by(snapshot.rgc_posts, "organisation_id").items():
        rgc = _text(post["rgc_account_id"])
        expected = set() if rgc is None else {rgc}
        terms = in_office.get(organisation_id, set())
        if terms != expected:
            found.append(Disagreement(
                "rgc_post", organisation_id, f"RGC {rgc}, declaration's in office {sorted(terms)}"
            ))  # fmt: skip
        recipient = recipients.get(organisation_id)
        for role in ("rgc", "head"):
            held = _text(post[f"{role}_account_id"])
            told = recipient and _text(recipient[f"{role}_account_id"])
            if recipient is None or told != held:
                found.append(Disagreement(
                    "rgc_post", organisation_id, f"{role} {held}, notification's {told}"
                ))  # fmt: skip
    return found


def lapsed_accounts(snapshot: Snapshot) -> list[Disagreement]:
    owner = {
        str(row["id"]) for row in snapshot.identity_accounts
        if row["status"] == "lapsed" and row["organisation_id"] is not None
    }  # fmt: skip
    view = {str(row["account_id"]) for row in snapshot.lapsed_accounts}
    return [
        Disagreement("lapsed_account", account_id, "identity lapsed it, declaration does not know")
        for account_id in sorted(owner - view)
    ] + [
        Disagreement("lapsed_account", account_id, "declaration holds it lapsed, identity does not")
        for account_id in sorted(view - owner)
    ]


def leftovers(snapshot: Snapshot) -> list[Disagreement]:
    found = [
        Disagreement("outbox", service, f"{count} event(s) not yet published")
        for service, count in sorted(snapshot.unpublished.items())
        if count
    ]
    if snapshot.overdue_emails:
        found.append(Disagreement(
            "email", "notification", f"{snapshot.overdue_emails} e-mail(s) queued past their time"
        ))  # fmt: skip
    return found


def disagreements(snapshot: Snapshot) -> list[Disagreement]:
    """Every disagreement, sorted; none when the platform is consistent."""
    checks = (organisations, habilitations, rgc_posts, lapsed_accounts, leftovers)
    return sorted(found for check in checks for found in check(snapshot))
