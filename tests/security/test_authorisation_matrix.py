"""The authorisation matrix (issue 9): every endpoint of the four services, by every role, on
its own or another organisation, inside or outside opening hours; each cell's expected answer
derived from ONE table (:data:`ROWS`), run against one platform the whole module shares.

**Roles.** ``anonymous`` (no token), ``operator`` (France Travail), and the people of
organisation A: ``head`` (habilitated as head), ``rgc`` (in office) and ``user`` (habilitated).
**Organisations.** ``own``: the request names A or one of A's resources; ``other``: B's (another
OF of the same shape). Operators and anonymous callers have no organisation: their ``own`` and
``other`` columns name A and B all the same. Endpoints naming no organisation have one
column, ``none``.

**Expected answers** (:func:`expected`): a public row allows everyone; otherwise anonymous is
401; an operator is allowed when the row's ``who`` names operators (on every OF, at any hour),
else 403; an OF role acting on another OF is 403 (404 where the row hides other organisations'
existence); an OF role the row does not name is 403; inside hours an OF role the row names is
allowed; outside hours it is 403 ``outside-access-hours`` when the row is bound by K4. "Allowed"
means the authorisation checks passed: the status is one of the row's ``ok`` statuses — a 2xx or
a business answer given only after those checks (404, 409, a rule's 422). Requests are built so
that this business answer is harmless (ending an already ended habilitation is a 409...), and
bodies always validate, so a refusal is never masked by a validation 422. A refused request
must change nothing: each refused cell of a row that changes state (every method but GET, and
the GET that generates provisional credentials) compares a digest of its service's state
tables (and its outbox) before and after.

**Hours and tokens.** Access tokens live 10 minutes of the platform's clock (a ManualClock) and
identity refuses OF logins outside opening hours (K4), so the inside-hours cells run on Monday
2 March 2026 10:00 Paris with tokens obtained then, and the outside-hours cells log
everyone in at 18:55 Paris (still open) and then move the clock to 19:01: closed, the tokens
still valid (6 minutes old), so each service's own per-request check is what is tested. The
clock never moves within a phase. Within a phase the cells expected refused run first (their
digests must not see the asynchronous effects of allowed ones), after the platform has gone
quiet.

**Harmless targets.** Where an allowed call would change what later cells rely on, the row
points it elsewhere (``substitute``): the operator's suspension and withdrawal go to
organisation W, already withdrawn (409); the head's own-OF call relieving the RGC is made by
organisation V's head on V, whose post is already vacant (409). ``DELETE /v1/sessions/current``
ends a spare session of the caller; ``POST /v1/sessions`` and ``/refresh`` use an operator's
credentials whoever sends them (they are public: the caller's token plays no part).

Every route of the four apps must have a row (:func:`test_every_route_of_the_four_apps_has_a_row`).
A cell the services answer differently from the table's expectation, knowingly, is
``xfail(strict=True)`` with its reason (:data:`KNOWN_GAPS`); fixing it makes the test fail until
the mark goes.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI

from kairos_declaration.bootstrap import create_app as declaration_app
from kairos_declaration.config import DeclarationSettings
from kairos_devstack.platform import (
    PASSWORD,
    Organisation,
    Platform,
    bearer,
    running_platform,
    signed_authorisation,
)
from kairos_devstack.story_clients import declarer_let_in
from kairos_devstack.testing import valid_siret
from kairos_habilitation.bootstrap import create_app as habilitation_app
from kairos_habilitation.config import HabilitationSettings
from kairos_identity.bootstrap import create_app as identity_app
from kairos_identity.config import IdentitySettings
from kairos_notification.bootstrap import create_app as notification_app
from kairos_notification.config import NotificationSettings

pytestmark = [pytest.mark.security, pytest.mark.slow]

Role = Literal["anonymous", "operator", "head", "rgc", "user"]
Relation = Literal["own", "other", "none"]
Hours = Literal["inside", "outside"]
Service = Literal["identity", "habilitation", "declaration", "notification"]
ROLES: tuple[Role, ...] = ("anonymous", "operator", "head", "rgc", "user")
OF_ROLES = frozenset({"head", "rgc", "user"})
PUBLIC = frozenset({"anyone"})
SESSIONS = frozenset({"operator", "head", "rgc", "user"})
HOURS_PROBLEM = "outside-access-hours"

# Monday 2 March 2026: 10:00 in Paris (setup and inside-hours cells), 18:55 (log in) and
# 19:01 (closed) for the outside-hours cells. Lyon, where every organisation here is, is Paris.
INSIDE = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
BEFORE_CLOSING = datetime(2026, 3, 2, 17, 55, tzinfo=UTC)
AFTER_CLOSING = datetime(2026, 3, 2, 18, 1, tzinfo=UTC)

SESSION_REF = {"action_number": "84_AF_0000012345", "session_number": "84_SE_0000067890"}
TRAINEE = "1234567A"


# ---------------------------------------------------------------------------------------------
# The world the cells act on: organisations, their people and resources, built once.


@dataclass
class Of:
    """An organisation of the world, its people's login ids and the resources rows target."""

    organisation: Organisation
    logins: dict[str, str] = field(default_factory=dict)
    """role → login id of its people who act as callers."""
    user_habilitation: str = ""
    user_account: str = ""
    pending_habilitation: str = ""
    """Habilitated, account created, credentials not retrieved at setup: targets of the rows that
    would change a live holder (absences, review decisions, demands, credentials)."""
    pending_account: str = ""
    ended_habilitation: str = ""
    absence: str = ""
    campaign: str = ""
    demand: str = ""
    entry_declaration: str = ""
    correspondent_declaration: str = ""
    notification: str = ""
    """An e-mail about this OF whose recipient is its user."""
    seed: int = 0

    @property
    def id(self) -> str:
        return self.organisation.id


@dataclass
class World:
    platform: Platform
    ofs: dict[str, Of]
    """"A" (own), "B" (other), "W" (withdrawn), "V" (RGC post vacant, its head logged in)."""
    tokens: dict[tuple[str, str], str] = field(default_factory=dict)
    """(OF key, role) → a live access token for this phase."""
    spares: dict[tuple[str, str], str] = field(default_factory=dict)
    """(OF key or "", role) → a second session of the same person, for logout rows."""
    hours: Hours = "inside"

    @property
    def operator_login(self) -> str:
        return self.platform.login_ids[self.platform.operator_token]

    def token(self, of_key: str, role: Role) -> str | None:
        if role == "anonymous":
            return None
        if role == "operator":
            return self.platform.operator_token
        return self.tokens[(of_key, role)]

    def spare(self, of_key: str, role: Role) -> str | None:
        if role == "anonymous":
            return None
        return self.spares[("" if role == "operator" else of_key, role)]

    async def enter(self, hours: Hours) -> None:
        """Be in `hours` with live tokens (see the module's docstring)."""
        if hours == self.hours:
            return
        await quiet(self)
        clock = self.platform.clock
        if hours == "outside":
            clock.set(BEFORE_CLOSING)
            await self.log_everyone_in()
            clock.set(AFTER_CLOSING)
        else:  # back inside: the next morning, 10:00 in Paris
            clock.set(INSIDE + timedelta(days=1))
            await self.log_everyone_in()
        self.hours = hours
        await quiet(self)

    async def log_everyone_in(self) -> None:
        platform = self.platform
        platform.operator_token = await platform.login(self.operator_login, PASSWORD)
        self.spares[("", "operator")] = await platform.login(self.operator_login, PASSWORD)
        for of_key in ("A", "V"):  # the OFs whose people call
            for role, login_id in self.ofs[of_key].logins.items():
                self.tokens[(of_key, role)] = await platform.login(login_id, PASSWORD)
                if of_key == "A":
                    self.spares[(of_key, role)] = await platform.login(login_id, PASSWORD)


# ---------------------------------------------------------------------------------------------
# The table.


@dataclass(frozen=True)
class Call:
    path: str
    json: Any = None
    params: Mapping[str, str] | None = None


Builder = Callable[[World, Of], "Call | Awaitable[Call]"]


@dataclass(frozen=True)
class Row:
    """One endpoint: who may call it, how to call it harmlessly on an OF, what "allowed"
    answers are."""

    service: Service
    method: str
    path: str
    """As the app declares it (compared with the apps' routes)."""
    who: frozenset[str]
    """``anyone`` (public); else the roles allowed: ``operator`` on every OF, OF roles on
    their own."""
    call: Builder
    ok: frozenset[int]
    """The statuses an allowed call gets here: 2xx, or a business answer given after the
    authorisation checks (never 401 or 403)."""
    scoped: bool = True
    """The path or body names an organisation or one of its resources: own / other columns."""
    hours: bool = True
    """K4: OF roles are refused outside opening hours."""
    other: Literal[403, 404] = 403
    """How an OF role is refused another OF's resource (404: its existence is not revealed)."""
    substitute: Mapping[str, str] = field(default_factory=dict)
    """role → OF key: where this role's own-OF calls go instead of A (see the docstring)."""
    own_session: bool = False
    """The call ends the caller's session: it is made with a spare one."""
    note: str = ""

    @property
    def name(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def mutates(self) -> bool:
        """Whether an allowed call may change state: a refused one must not (digests)."""
        return self.method != "GET" or self.path.endswith("/provisional-credentials")


def _fixed(path: str, **kwargs: Any) -> Builder:
    return lambda _world, _of: Call(path, **kwargs)


def _org(template: str, body: Any = None, params: Mapping[str, str] | None = None) -> Builder:
    """A call on `/…{org}…` of the targeted OF."""
    return lambda _world, of: Call(template.format(org=of.id), body, params)


def _on(template: str, resource: str, body: Any = None) -> Builder:
    """A call on one of the targeted OF's resources (an attribute of :class:`Of`)."""
    return lambda _world, of: Call(template.format(id=getattr(of, resource)), body)


def _with_body(template: str, body: Callable[[Of], Any]) -> Builder:
    return lambda _world, of: Call(template.format(org=of.id), body(of))


def _on_with_body(template: str, resource: str, body: Callable[[Of], Any]) -> Builder:
    return lambda _world, of: Call(template.format(id=getattr(of, resource)), body(of))


def _adhesion(seed: int) -> dict[str, Any]:
    return {
        "siret": valid_siret(seed), "nda": "84690000069", "legal_name": f"Organisme {seed}",
        "address": {"street": "1 place Bellecour", "postal_code": "69002", "city": "Lyon"},
        "head": {"first_name": "Inès", "last_name": "Roux", "function": "Directrice",
                 "email": f"ines.roux.{seed}@of.example"},
        "rgc": {"first_name": "Paul", "last_name": "Rgc", "email": f"rgc.{seed}@of.example"},
        "terms": {"version": "2017-09-15", "accepted_on": "2026-03-01"},
    }  # fmt: skip


async def _refresh_call(world: World, _of: Of) -> Call:
    """A refresh token of a new operator session (refresh tokens are single use)."""
    response = await world.platform.identity_http.post(
        "/v1/sessions", json={"login_id": world.operator_login, "password": PASSWORD}
    )
    assert response.status_code == 201, response.text
    return Call("/v1/sessions/refresh", {"refresh_token": response.json()["refresh_token"]})


def _habilitation_of_a_holder(of: Of) -> dict[str, Any]:
    """A valid habilitation for a person who already holds one: 409 once authorised."""
    return {
        "role": "user",
        "person": {"first_name": "Fanny", "last_name": "Martin",
                   "email": f"user.{of.seed}@of.example"},
        "function": "formatrice", "authorisation": signed_authorisation("again"),
        "employee_attested": True,
    }  # fmt: skip


def _entry() -> dict[str, Any]:
    return {"session": SESSION_REF, "trainee_id": TRAINEE, "entered_on": "2026-02-02"}


def _correspondent() -> dict[str, Any]:
    return {
        "session": SESSION_REF,
        "correspondent": {"first_name": "Léa", "last_name": "Blanc",
                          "email": "lea.blanc@of.example", "phone": "+33 4 72 00 00 00"},
    }  # fmt: skip


def _attendance() -> dict[str, Any]:
    return {"session": SESSION_REF, "trainee_id": TRAINEE, "month": "2026-02", "attended_hours": 7}


DECLARATION_BODIES: dict[str, dict[str, Any]] = {
    "interruptions": {"session": SESSION_REF, "starts_on": "2026-02-09", "ends_on": "2026-02-27",
                      "reason": "travaux"},
    "correspondents": _correspondent(),
    "information-meetings": {"session": SESSION_REF, "meetings": [
        {"meeting_id": "RI-1", "meeting_kind": "collective", "starts_at": "2026-01-20T09:00:00Z",
         "place": "Lyon"}]},
    "information-meeting-results": {"session": SESSION_REF, "trainee_id": TRAINEE,
                                    "result": "enrolled"},
    "entries": _entry(),
    "attendance-statements": _attendance(),
    "exits": {"session": SESSION_REF, "trainee_id": TRAINEE, "exited_on": "2026-02-20",
              "exit_kind": "abandonment", "reason": "employment"},
}  # fmt: skip
"""One valid body per kind: accepted (201) or refused by a rule after the checks (422)."""

OPERATOR = frozenset({"operator"})
NO_DESIGNATION = uuid.UUID(int=7)
"""An RGC designation that does not exist: the operators' calls on it are 404 after the checks."""
RGC = frozenset({"rgc"})
HEAD = frozenset({"head"})
READERS = frozenset({"operator", "rgc", "head"})
"""Habilitation's readers: operators, the OF's RGC and head."""
DECLARERS = frozenset({"rgc", "head", "user"})
"""Declaration's declarers: the RGC in office and the habilitated (the head is habilitated)."""
DECLARATION_READERS = DECLARERS | OPERATOR
OF_PEOPLE = frozenset({"operator", "head", "rgc", "user"})
WITHDRAWN = {"operator": "W"}


def ok(*statuses: int) -> frozenset[int]:
    return frozenset(statuses)


def _public_rows(service: Service) -> list[Row]:
    """What every service serves to anyone: health, metrics, documentation."""
    paths = ["/health/live", "/health/ready", "/metrics", "/asyncapi.json", "/asyncapi.yaml",
             "/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"]  # fmt: skip
    if service == "identity":
        paths.append("/.well-known/jwks.json")
    return [
        Row(service, "GET", path, PUBLIC, _fixed(path), ok(200), scoped=False, hours=False)
        for path in paths
    ]


ROWS: tuple[Row, ...] = (
    # identity -------------------------------------------------------------------------------
    *_public_rows("identity"),
    Row("identity", "POST", "/v1/organisations", PUBLIC,
        _fixed("/v1/organisations", json=_adhesion(9101)), ok(201, 409),
        scoped=False, hours=False, note="the second adhesion of the same SIRET is a 409"),
    Row("identity", "POST", "/v1/organisations/{organisation_id}/validation", OPERATOR,
        _org("/v1/organisations/{org}/validation"), ok(409), note="already validated"),
    Row("identity", "POST", "/v1/organisations/{organisation_id}/suspension", OPERATOR,
        _org("/v1/organisations/{org}/suspension", {"reason": "non-respect des CGU"}),
        ok(409), substitute=WITHDRAWN),
    Row("identity", "POST", "/v1/organisations/{organisation_id}/withdrawal", OPERATOR,
        _org("/v1/organisations/{org}/withdrawal", {"reason": "non-respect des CGU"}),
        ok(409), substitute=WITHDRAWN),
    Row("identity", "POST", "/v1/organisations/{organisation_id}/rejection", OPERATOR,
        _org("/v1/organisations/{org}/rejection", {"reason": "NDA inconnu"}), ok(409),
        note="only a pending request is rejected"),
    Row("identity", "POST", "/v1/organisations/{organisation_id}/reinstatement", OPERATOR,
        _org("/v1/organisations/{org}/reinstatement"), ok(409), note="it is active"),
    Row("identity", "POST", "/v1/organisations/{organisation_id}/renewal", OPERATOR,
        _org("/v1/organisations/{org}/renewal"), ok(200)),
    Row("identity", "GET", "/v1/organisations/{organisation_id}", OF_PEOPLE,
        _org("/v1/organisations/{org}"), ok(200), other=404),
    Row("identity", "GET", "/v1/accounts/{account_id}/provisional-credentials",
        frozenset({"rgc", "head"}), _on("/v1/accounts/{id}/provisional-credentials",
                                        "pending_account"),
        ok(200, 409), note="shown once: the next calls are 409"),
    Row("identity", "GET", "/v1/rgc-designations/{designation_id}/provisional-credentials",
        OPERATOR, _fixed(f"/v1/rgc-designations/{NO_DESIGNATION}/provisional-credentials"),
        ok(404), scoped=False, hours=False, note="no such designation: 404 after the checks"),
    Row("identity", "POST", "/v1/accounts/{account_id}/provisional-credentials",
        frozenset({"rgc", "head"}), _on("/v1/accounts/{id}/provisional-credentials",
                                        "pending_account"),
        ok(409), note="not lapsed: nothing is reissued"),
    Row("identity", "POST", "/v1/accounts/{account_id}/password-reset", OPERATOR,
        _on("/v1/accounts/{id}/password-reset", "pending_account"), ok(201)),
    Row("identity", "POST", "/v1/accounts/{account_id}/compromise", OPERATOR,
        _on("/v1/accounts/{id}/compromise", "pending_account", {"reason": "hameçonnage"}),
        ok(200), note="a provisional account: its next login changes the password anyway"),
    Row("identity", "POST", "/v1/sessions", PUBLIC,
        lambda world, _of: Call("/v1/sessions", {"login_id": world.operator_login,
                                                 "password": PASSWORD}),
        ok(201), scoped=False, hours=False, note="an operator's login, whoever sends it"),
    Row("identity", "POST", "/v1/sessions/refresh", PUBLIC, _refresh_call, ok(200),
        scoped=False, hours=False),
    Row("identity", "DELETE", "/v1/sessions/current", SESSIONS, _fixed("/v1/sessions/current"),
        ok(204), scoped=False, hours=False, own_session=True,
        note="ending one's own session is never refused"),
    Row("identity", "POST", "/v1/accounts/me/password", SESSIONS,
        _fixed("/v1/accounts/me/password", json={"current_password": "pas le bon mot de passe",
                                                 "new_password": "Une toute autre phrase 2026"}),
        ok(422), scoped=False, hours=False, note="a wrong current password: 422"),
    # habilitation ---------------------------------------------------------------------------
    *_public_rows("habilitation"),
    Row("habilitation", "POST", "/v1/organisations/{organisation_id}/habilitations", RGC,
        _with_body("/v1/organisations/{org}/habilitations", _habilitation_of_a_holder),
        ok(409), note="already-habilitated"),
    Row("habilitation", "GET", "/v1/organisations/{organisation_id}/habilitations", READERS,
        _org("/v1/organisations/{org}/habilitations", params={"status": "all"}), ok(200)),
    Row("habilitation", "GET", "/v1/habilitations/{habilitation_id}", READERS,
        _on("/v1/habilitations/{id}", "user_habilitation"), ok(200)),
    Row("habilitation", "POST", "/v1/habilitations/{habilitation_id}/ending", RGC,
        _on("/v1/habilitations/{id}/ending", "ended_habilitation", {"reason": "departure"}),
        ok(409), note="already ended"),
    Row("habilitation", "POST", "/v1/habilitations/{habilitation_id}/absences", RGC,
        _on("/v1/habilitations/{id}/absences", "ended_habilitation",
            {"starts_on": "2026-03-02"}), ok(409), note="its habilitation has ended"),
    Row("habilitation", "POST", "/v1/absences/{absence_id}/return", RGC,
        _on("/v1/absences/{id}/return", "absence", {"ends_on": "2026-03-02"}),
        ok(200, 409, 422), note="an absence of a habilitated person (not the RGC's)"),
    Row("habilitation", "GET", "/v1/organisations/{organisation_id}/rgc", READERS,
        _org("/v1/organisations/{org}/rgc"), ok(200)),
    Row("habilitation", "PUT", "/v1/organisations/{organisation_id}/rgc", HEAD,
        _org("/v1/organisations/{org}/rgc", {"first_name": "Noé", "last_name": "Vidal",
                                             "email": "noe.vidal@of.example"}),
        ok(422), note="no reason while an RGC is in office: 422 after the checks"),
    Row("habilitation", "POST", "/v1/rgc-designation-requests", PUBLIC,
        _fixed("/v1/rgc-designation-requests", json={
            "siret": valid_siret(9199),
            "head": {"first_name": "Inès", "last_name": "Roux", "email": "x@of.example"},
        }), ok(422), scoped=False, hours=False, note="no OF with this SIRET and head: 422"),
    Row("habilitation", "POST", "/v1/messages-to-operators", PUBLIC,
        _fixed("/v1/messages-to-operators", json={
            "siret": valid_siret(9199),
            "head": {"first_name": "Inès", "last_name": "Roux", "email": "x@of.example"},
            "subject": "Levée de la suspension", "text": "Bonjour",
        }), ok(202), scoped=False, hours=False,
        note="no OF with this SIRET and head: the same 202, nothing sent"),
    Row("habilitation", "GET", "/v1/rgc-designations", OPERATOR, _fixed("/v1/rgc-designations"),
        ok(200), scoped=False, hours=False),
    Row("habilitation", "POST", "/v1/rgc-designations/{designation_id}/validation", OPERATOR,
        _fixed(f"/v1/rgc-designations/{NO_DESIGNATION}/validation"), ok(404), scoped=False,
        hours=False),
    Row("habilitation", "POST", "/v1/rgc-designations/{designation_id}/rejection", OPERATOR,
        _fixed(f"/v1/rgc-designations/{NO_DESIGNATION}/rejection", json={"reason": "inconnu"}),
        ok(404), scoped=False, hours=False),
    Row("habilitation", "POST", "/v1/organisations/{organisation_id}/rgc/vacancy", HEAD,
        _org("/v1/organisations/{org}/rgc/vacancy", {"reason": "departure"}), ok(409),
        substitute={"head": "V"}, note="V's post is already vacant"),
    Row("habilitation", "POST", "/v1/organisations/{organisation_id}/rgc/absences", HEAD,
        _org("/v1/organisations/{org}/rgc/absences",
             {"starts_on": "2026-03-02", "ends_on": "2026-03-02"}), ok(201, 409, 422)),
    Row("habilitation", "POST", "/v1/organisations/{organisation_id}/reviews", OPERATOR,
        _org("/v1/organisations/{org}/reviews"), ok(409), note="one is open"),
    Row("habilitation", "GET", "/v1/organisations/{organisation_id}/reviews/current", READERS,
        _org("/v1/organisations/{org}/reviews/current"), ok(200)),
    Row("habilitation", "POST", "/v1/reviews/{campaign_id}/decisions", RGC,
        _on_with_body("/v1/reviews/{id}/decisions", "campaign",
                      lambda of: {"habilitation_id": of.pending_habilitation,
                                  "decision": "confirmed"}), ok(200)),
    Row("habilitation", "POST", "/v1/habilitations/{habilitation_id}/reinstatement", RGC,
        _on("/v1/habilitations/{id}/reinstatement", "pending_habilitation"), ok(409),
        note="not suspended"),
    Row("habilitation", "GET", "/v1/organisations/{organisation_id}/habilitations/unjustified",
        OPERATOR, _org("/v1/organisations/{org}/habilitations/unjustified"), ok(200)),
    Row("habilitation", "GET", "/v1/habilitation-flags", OPERATOR,
        _fixed("/v1/habilitation-flags"), ok(200), scoped=False, hours=False),
    Row("habilitation", "GET", "/v1/organisations/{organisation_id}/habilitation-flags",
        OPERATOR, _org("/v1/organisations/{org}/habilitation-flags"), ok(200)),
    Row("habilitation", "POST", "/v1/organisations/{organisation_id}/demands", OPERATOR,
        _with_body("/v1/organisations/{org}/demands",
                   lambda of: {"kind": "end_habilitations", "reason": "inutilisée",
                               "habilitation_ids": [of.ended_habilitation]}),
        ok(422), note="an ended habilitation cannot be demanded: 422 after the checks"),
    Row("habilitation", "GET", "/v1/organisations/{organisation_id}/demands", READERS,
        _org("/v1/organisations/{org}/demands"), ok(200)),
    Row("habilitation", "POST", "/v1/demands/{demand_id}/justifications", RGC,
        _on_with_body("/v1/demands/{id}/justifications", "demand",
                      lambda of: {"habilitation_id": of.pending_habilitation,
                                  "justification": "formatrice en poste"}), ok(200, 409)),
    # declaration ----------------------------------------------------------------------------
    *_public_rows("declaration"),
    Row("declaration", "POST", "/v1/organisations/{organisation_id}/sessions", DECLARERS,
        _org("/v1/organisations/{org}/sessions", {**SESSION_REF, "starts_on": "2026-02-02",
                                                  "ends_on": "2026-06-30",
                                                  "weekly_hours": 35}), ok(201)),
    Row("declaration", "GET", "/v1/organisations/{organisation_id}/sessions",
        DECLARATION_READERS, _org("/v1/organisations/{org}/sessions"), ok(200)),
    *(
        Row("declaration", "POST", f"/v1/organisations/{{organisation_id}}/{kind}", DECLARERS,
            _org(f"/v1/organisations/{{org}}/{kind}", body), ok(201, 422))
        for kind, body in DECLARATION_BODIES.items()
    ),
    Row("declaration", "POST", "/v1/organisations/{organisation_id}/attendance-statements/batch",
        DECLARERS, _org("/v1/organisations/{org}/attendance-statements/batch",
                        {"rows": [_attendance()]}), ok(201, 422)),
    Row("declaration", "POST", "/v1/declarations/{declaration_id}/corrections", DECLARERS,
        _on("/v1/declarations/{id}/corrections", "entry_declaration",
            {**_entry(), "correction_reason": "date vérifiée"}), ok(201)),
    Row("declaration", "POST", "/v1/declarations/{declaration_id}/cancellation", DECLARERS,
        _on("/v1/declarations/{id}/cancellation", "correspondent_declaration",
            {"reason": "erreur de saisie"}), ok(201, 409, 422),
        note="the first one cancels it, the next ones find it cancelled"),
    Row("declaration", "GET", "/v1/organisations/{organisation_id}/declarations",
        DECLARATION_READERS, _org("/v1/organisations/{org}/declarations"), ok(200)),
    Row("declaration", "GET", "/v1/declarations/{declaration_id}", DECLARATION_READERS,
        _on("/v1/declarations/{id}", "entry_declaration"), ok(200)),
    Row("declaration", "GET", "/v1/organisations/{organisation_id}/lateness",
        DECLARATION_READERS, _org("/v1/organisations/{org}/lateness",
                                  params={"since": "2026-01-01", "until": "2026-04-01"}),
        ok(200)),
    # notification ---------------------------------------------------------------------------
    *_public_rows("notification"),
    Row("notification", "GET", "/v1/organisations/{organisation_id}/notifications",
        frozenset({"operator", "rgc"}), _org("/v1/organisations/{org}/notifications"),
        ok(200), note="the RGC in office (the head only while the post is vacant)"),
    Row("notification", "GET", "/v1/notifications", OPERATOR,
        lambda _world, of: Call("/v1/notifications", params={"account_id": of.user_account}),
        ok(200)),
    Row("notification", "GET", "/v1/notifications/{notification_id}",
        frozenset({"operator", "rgc", "user"}), _on("/v1/notifications/{id}", "notification"),
        ok(200), note="an e-mail to the OF's user: its recipient and its RGC read it"),
    Row("notification", "POST", "/v1/notifications/{notification_id}/resend", OPERATOR,
        _on("/v1/notifications/{id}/resend", "notification"), ok(201)),
    Row("notification", "POST", "/v1/notifications/{notification_id}/bounce", OPERATOR,
        _on("/v1/notifications/{id}/bounce", "notification", {"reason": "550 unknown user"}),
        ok(409), note="it was never sent: 409"),
    Row("notification", "POST", "/v1/announcements", OPERATOR,
        _fixed("/v1/announcements", json={"kind": "change", "title": "Nouveauté",
                                          "message": "Un nouvel écran."}),
        ok(202), scoped=False),
    Row("notification", "POST", "/v1/organisations/{organisation_id}/incident-reports", RGC,
        _org("/v1/organisations/{org}/incident-reports",
             {"summary": "Lenteurs", "description": "Les pages mettent 10 s."}), ok(202)),
)  # fmt: skip

Gap = tuple[str, Role, Relation, Hours]
"""A cell: (row name, role, relation, hours)."""

KNOWN_GAPS: dict[Gap, str] = {}
"""(row name, role, relation, hours) → why the services answer otherwise than the table
expects: the cell is xfail (strict), and fixing the service makes it fail until it goes. Empty:
the gaps this table found (identity checked opening hours only at login, the notification
service not at all) are fixed."""


# ---------------------------------------------------------------------------------------------
# Expectations, derived from a row.


@dataclass(frozen=True)
class Expected:
    allowed: bool
    statuses: frozenset[int]
    problem_type: str | None = None

    def describe(self) -> str:
        what = "allowed" if self.allowed else "refused"
        statuses = "/".join(str(s) for s in sorted(self.statuses))
        return f"{what} ({statuses}{' ' + self.problem_type if self.problem_type else ''})"


def expected(row: Row, role: Role, relation: Relation, hours: Hours) -> Expected:
    refused: frozenset[int] | None = None
    if row.who == PUBLIC:
        pass
    elif role == "anonymous":
        refused = frozenset({401})
    elif role == "operator":
        refused = None if role in row.who else frozenset({403})
    elif relation == "other":
        # Outside hours a service may refuse for the hours before it looks at the target.
        closed = hours == "outside" and row.hours
        refused = frozenset({row.other, 403}) if closed else frozenset({row.other})
    elif role not in row.who:
        refused = frozenset({403})
    elif hours == "outside" and row.hours:
        return Expected(False, frozenset({403}), HOURS_PROBLEM)
    return Expected(True, row.ok) if refused is None else Expected(False, refused)


@dataclass(frozen=True)
class Cell:
    row: Row
    role: Role
    relation: Relation
    hours: Hours

    @property
    def expected(self) -> Expected:
        return expected(self.row, self.role, self.relation, self.hours)

    @property
    def id(self) -> str:
        where = f"{self.role}, {self.relation} OF, {self.hours} hours"
        return f"{self.row.service} {self.row.name} [{where}]"


def cells() -> Iterator[Cell]:
    """Inside hours first, then outside; in each, the refused cells before the allowed."""
    for hours in ("inside", "outside"):
        phase = [
            Cell(row, role, relation, hours)
            for row in ROWS
            for role in ROLES
            for relation in (("own", "other") if row.scoped else ("none",))
        ]
        yield from (cell for cell in phase if not cell.expected.allowed)
        yield from (cell for cell in phase if cell.expected.allowed)


def _params() -> list[Any]:
    params = []
    for cell in cells():
        gap = KNOWN_GAPS.get((cell.row.name, cell.role, cell.relation, cell.hours))
        marks = [] if gap is None else [pytest.mark.xfail(strict=True, reason=gap)]
        params.append(pytest.param(cell, id=cell.id, marks=marks))
    return params


# ---------------------------------------------------------------------------------------------
# State digests: what a refused request must leave as it was.

STATE_TABLES: dict[Service, tuple[str, ...]] = {
    "identity": ("organisation", "account", "session"),
    "habilitation": ("organisation", "rgc_post", "rgc_designation", "habilitation", "absence",
                     "review_campaign", "review_item", "demand", "demand_item"),
    "declaration": ("training_session", "declaration", "declaration_version", "read_audit",
                    "idempotency_key"),
    "notification": ("notification",),
}  # fmt: skip


def _pool(platform: Platform, service: Service) -> Any:
    apps = {"identity": platform.identity, "habilitation": platform.app,
            "declaration": platform.declaration, "notification": platform.notification}  # fmt: skip
    app = apps[service]
    assert app is not None
    return getattr(app.state, service).pool


async def digest(platform: Platform, service: Service) -> tuple[str, ...]:
    """Each state table's content hash, and the outbox's size."""
    parts = [
        f"SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM {table} t"
        for table in STATE_TABLES[service]
    ]
    parts.append("SELECT count(*)::text FROM outbox")
    query = " UNION ALL ".join(f"({part})" for part in parts)
    async with _pool(platform, service).acquire() as connection:
        rows = await connection.fetch(query)
    return tuple(str(row[0]) for row in rows)


async def _progress(platform: Platform, service: Service) -> tuple[object, ...]:
    """The service's state, its unpublished events and the events it consumed."""
    async with _pool(platform, service).acquire() as connection:
        counts = await connection.fetchrow(
            "SELECT (SELECT count(*) FROM outbox WHERE published_at IS NULL) AS unpublished,"
            " (SELECT count(*) FROM inbox) AS consumed"
        )
    assert counts is not None
    return (await digest(platform, service), counts["unpublished"], counts["consumed"])


async def quiet(world: World, *, steady_for: float = 0.5, timeout: float = 60.0) -> None:
    """Wait until every service has published its events and nothing (state, events consumed)
    changed for `steady_for` seconds: the asynchronous effects of earlier calls are over."""
    services: tuple[Service, ...] = ("identity", "habilitation", "declaration", "notification")
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    last: list[tuple[object, ...]] = []
    steady_since = loop.time()
    while loop.time() < deadline:
        now = [await _progress(world.platform, service) for service in services]
        if now != last or any(progress[1] for progress in now):
            last, steady_since = now, loop.time()
        elif loop.time() - steady_since >= steady_for:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"the platform did not go quiet within {timeout} s")


# ---------------------------------------------------------------------------------------------
# Building the world.


def _http(platform: Platform, service: Service) -> httpx.AsyncClient:
    clients = {"identity": platform.identity_http, "habilitation": platform.http,
               "declaration": platform.declaration_http,
               "notification": platform.notification_http}  # fmt: skip
    client = clients[service]
    assert client is not None
    return client


async def _habilitation_with_account(
    platform: Platform, organisation: Organisation, email: str
) -> tuple[str, str]:
    """A habilitation whose account exists, credentials not retrieved: (id, account id)."""
    recorded = await platform.habilitate(organisation.id, organisation.rgc_token, email)
    assert recorded.status_code == 201, recorded.text
    habilitation_id = str(recorded.json()["habilitation_id"])

    async def account() -> str | None:
        view = await platform.habilitation(habilitation_id)
        return str(view["account_id"]) if view["status"] == "active" else None

    return habilitation_id, await platform.eventually(account)


async def _declare(platform: Platform, token: str, path: str, body: Any) -> httpx.Response:
    headers = {**bearer(token), "Idempotency-Key": str(uuid.uuid4())}
    assert platform.declaration_http is not None
    return await platform.declaration_http.post(path, json=body, headers=headers)


async def _ended_habilitation(platform: Platform, organisation: Organisation) -> str:
    recorded = await platform.habilitate(
        organisation.id, organisation.rgc_token, f"ended.{organisation.seed}@of.example"
    )
    assert recorded.status_code == 201, recorded.text
    habilitation_id = str(recorded.json()["habilitation_id"])
    ending = await platform.http.post(
        f"/v1/habilitations/{habilitation_id}/ending", json={"reason": "departure"},
        headers=bearer(organisation.rgc_token),
    )  # fmt: skip
    assert ending.status_code == 200, ending.text
    return habilitation_id


async def _habilitation_resources(platform: Platform, of: Of) -> None:
    """An absence, an open review and an operator's demand, all about the pending holder."""
    absence = await platform.http.post(
        f"/v1/habilitations/{of.pending_habilitation}/absences",
        json={"starts_on": "2026-03-02"}, headers=bearer(of.organisation.rgc_token),
    )  # fmt: skip
    assert absence.status_code == 201, absence.text
    of.absence = str(absence.json()["absence_id"])
    operator = bearer(platform.operator_token)
    review = await platform.http.post(f"/v1/organisations/{of.id}/reviews", headers=operator)
    assert review.status_code == 201, review.text
    of.campaign = str(review.json()["campaign_id"])
    demand = await platform.http.post(
        f"/v1/organisations/{of.id}/demands",
        json={"kind": "end_habilitations", "reason": "inutilisée",
              "habilitation_ids": [of.pending_habilitation]},
        headers=operator,
    )  # fmt: skip
    assert demand.status_code == 201, demand.text
    of.demand = str(demand.json()["demand_id"])


async def _declarations(platform: Platform, of: Of, user_token: str) -> None:
    """A session, an entry and a correspondent declared by the OF's user."""
    base = f"/v1/organisations/{of.id}"
    session = {**SESSION_REF, "starts_on": "2026-02-02", "ends_on": "2026-06-30",
               "weekly_hours": 35}  # fmt: skip

    assert platform.declaration_http is not None
    await declarer_let_in(platform.declaration_http, of.id, user_token, "the user")
    registered = await _declare(platform, user_token, f"{base}/sessions", session)
    assert registered.status_code == 201, registered.text
    entry = await _declare(platform, user_token, f"{base}/entries", _entry())
    assert entry.status_code == 201, entry.text
    of.entry_declaration = str(entry.json()["declaration_id"])
    correspondent = await _declare(platform, user_token, f"{base}/correspondents", _correspondent())
    assert correspondent.status_code == 201, correspondent.text
    of.correspondent_declaration = str(correspondent.json()["declaration_id"])


async def _an_email_to_the_user(platform: Platform, of: Of) -> None:
    assert platform.notification_http is not None
    notification_http = platform.notification_http
    operator = bearer(platform.operator_token)

    async def found() -> str | None:
        listed = await notification_http.get(
            "/v1/notifications", params={"account_id": of.user_account}, headers=operator
        )
        emails = listed.json()["notifications"] if listed.status_code == 200 else []
        mine = [n for n in emails if n["organisation_id"] == of.id]
        return str(mine[0]["notification_id"]) if mine else None

    of.notification = await platform.eventually(found)


async def _build_of(platform: Platform, organisation: Organisation, *, with_head: bool) -> Of:
    seed = organisation.seed
    of = Of(organisation, seed=seed)
    of.logins["rgc"] = platform.login_ids[organisation.rgc_token]
    async with asyncio.TaskGroup() as group:
        user = group.create_task(platform.active_holder(organisation, f"user.{seed}@of.example"))
        pending = group.create_task(
            _habilitation_with_account(platform, organisation, f"pending.{seed}@of.example")
        )
        ended = group.create_task(_ended_habilitation(platform, organisation))
        head = (
            group.create_task(
                platform.active_holder(organisation, f"head.{seed}@of.example", role="head")
            )
            if with_head
            else None
        )
    of.user_habilitation, user_token = user.result()
    of.pending_habilitation, of.pending_account = pending.result()
    of.ended_habilitation = ended.result()
    of.user_account = str((await platform.habilitation(of.user_habilitation))["account_id"])
    of.logins["user"] = platform.login_ids[user_token]
    if head is not None:
        of.logins["head"] = platform.login_ids[head.result()[1]]
    async with asyncio.TaskGroup() as group:
        group.create_task(_habilitation_resources(platform, of))
        group.create_task(_declarations(platform, of, user_token))
        group.create_task(_an_email_to_the_user(platform, of))
    return of


async def _build_withdrawn(platform: Platform, organisation: Organisation) -> Of:
    withdrawn = await platform.identity_http.post(
        f"/v1/organisations/{organisation.id}/withdrawal", json={"reason": "adhésion annulée"},
        headers=bearer(platform.operator_token),
    )  # fmt: skip
    assert withdrawn.status_code == 200, withdrawn.text
    return Of(organisation, seed=organisation.seed)


async def _build_vacant(platform: Platform, organisation: Organisation) -> Of:
    seed = organisation.seed
    _, head_token = await platform.active_holder(
        organisation, f"head.{seed}@of.example", role="head"
    )
    relieved = await platform.http.post(
        f"/v1/organisations/{organisation.id}/rgc/vacancy", json={"reason": "departure"},
        headers=bearer(head_token),
    )  # fmt: skip
    assert relieved.status_code == 200, relieved.text
    return Of(organisation, logins={"head": platform.login_ids[head_token]}, seed=seed)


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def world(
    module_new_database: Callable[[], Awaitable[str]], kafka_bootstrap_servers: str
) -> AsyncIterator[World]:
    async with running_platform(
        module_new_database, kafka_bootstrap_servers, with_declaration=True,
        with_notification=True,
    ) as platform:  # fmt: skip
        # One validation at a time: identity picks login ids by check-then-insert, so two
        # validations at once can pick the same one (a 500, reported).
        organisations = [await platform.organisation(seed=seed) for seed in (9001, 9002, 9004)]
        organisations.append(await platform.organisation(seed=9003, activate_rgc=False))
        own, other, vacant, withdrawn = await asyncio.gather(
            _build_of(platform, organisations[0], with_head=True),
            _build_of(platform, organisations[1], with_head=False),
            _build_vacant(platform, organisations[2]),
            _build_withdrawn(platform, organisations[3]),
        )
        built = World(platform, {"A": own, "B": other, "W": withdrawn, "V": vacant})
        platform.clock.set(INSIDE)  # unchanged: the setup never moves it
        await built.log_everyone_in()
        await quiet(built)
        yield built


# ---------------------------------------------------------------------------------------------
# The tests.


def _served_routes(app: FastAPI) -> set[tuple[str, str]]:
    """(method, path) of every route the app serves (HEAD aside), included routers too."""
    found: set[tuple[str, str]] = set()

    def walk(routes: list[Any], prefix: str) -> None:
        for route in routes:
            included = getattr(route, "original_router", None)
            if included is not None:
                context = getattr(route, "include_context", None)
                walk(included.routes, prefix + str(getattr(context, "prefix", "") or ""))
            elif hasattr(route, "methods") and route.methods:
                found.update((method, prefix + route.path) for method in route.methods)
            elif hasattr(route, "routes"):
                walk(route.routes, prefix + str(getattr(route, "path", "")))

    walk(list(app.routes), "")
    return {(method, path) for method, path in found if method != "HEAD"}


UNUSED_DATABASE = "postgresql://unused@127.0.0.1/unused"
APPS: dict[Service, Callable[[], FastAPI]] = {
    "identity": lambda: identity_app(IdentitySettings(database_url=UNUSED_DATABASE)),
    "habilitation": lambda: habilitation_app(HabilitationSettings(database_url=UNUSED_DATABASE)),
    "declaration": lambda: declaration_app(DeclarationSettings(database_url=UNUSED_DATABASE)),
    "notification": lambda: notification_app(NotificationSettings(database_url=UNUSED_DATABASE)),
}


@pytest.mark.parametrize("service", APPS)
def test_every_route_of_the_four_apps_has_a_row(service: Service) -> None:
    """A new endpoint without a row in the matrix fails here; a row for nothing too."""
    tabled = {(row.method, row.path) for row in ROWS if row.service == service}
    assert _served_routes(APPS[service]()) == tabled


def test_the_table_is_consistent() -> None:
    names = [(row.service, row.name) for row in ROWS]
    assert len(names) == len(set(names)), "a row appears twice"
    for row in ROWS:
        assert row.ok, row.name
        assert not row.ok & {401, 403}, f"{row.name}: an allowed call is never 401 or 403"
        assert row.who <= OF_PEOPLE or row.who == PUBLIC, row.name
        assert set(row.substitute) <= row.who, f"{row.name}: substitutes are for allowed roles"
    for gap in KNOWN_GAPS:
        assert gap[0] in {row.name for row in ROWS}, gap


async def _send(world: World, cell: Cell) -> tuple[httpx.Response, str]:
    """The cell's request; and which OF it targeted (for the failure message)."""
    row = cell.row
    of_key = "A" if cell.relation in {"own", "none"} else "B"
    caller_of = "A"
    substitute = row.substitute.get(cell.role)
    if substitute is not None and (cell.role == "operator" or cell.relation == "own"):
        of_key = substitute
        caller_of = substitute if cell.role in OF_ROLES else "A"
    token = (world.spare if row.own_session else world.token)(caller_of, cell.role)
    built = row.call(world, world.ofs[of_key])
    call = await built if inspect.isawaitable(built) else built
    headers = {} if token is None else bearer(token)
    if row.service == "declaration" and row.method == "POST":
        headers["Idempotency-Key"] = str(uuid.uuid4())
    client = _http(world.platform, row.service)
    response = await client.request(
        row.method, call.path, json=call.json, params=call.params, headers=headers
    )
    return response, f"{of_key} ({world.ofs[of_key].id})"


def _problem_type(response: httpx.Response) -> str:
    with contextlib.suppress(ValueError, AttributeError, TypeError):
        return str(response.json().get("type", "")).rsplit("/", 1)[-1]
    return ""


@pytest.mark.parametrize("cell", _params())
async def test_authorisation(world: World, cell: Cell) -> None:
    await world.enter(cell.hours)
    want = cell.expected
    checked = not want.allowed and cell.row.mutates
    before = await digest(world.platform, cell.row.service) if checked else None
    response, target = await _send(world, cell)
    got = f"{response.status_code} {_problem_type(response)}".strip()
    where = (
        f"{cell.row.name} as {cell.role} on {cell.relation} OF {target}, {cell.hours} hours: "
        f"expected {want.describe()}, got {got}: {response.text[:300]}"
    )
    assert response.status_code in want.statuses, where
    if want.problem_type is not None:
        assert _problem_type(response) == want.problem_type, where
    if before is not None:
        after = await digest(world.platform, cell.row.service)
        assert after == before, f"{where}; yet the {cell.row.service} service's state changed"
