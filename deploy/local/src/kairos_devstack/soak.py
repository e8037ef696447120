"""A bounded load run against a running platform (``make soak``; the soak test): tens of OFs,
hundreds of habilitated people, and for a fixed time a mix of logins, declarations, revocations
(a habilitation ended, a replacement habilitated) and annual reviews, from concurrent workers,
over the public HTTP APIs. Then the platform is left to settle, and ``kairos reconcile`` must
find every service agreeing with the events.

Every answer is classified: accepted, refused as the rules say (a revoked person's request,
a duplicate), or wrong (a 5xx, or an unexpected status): a run with anything wrong fails.
"""

from __future__ import annotations

import asyncio
import random
import secrets
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import httpx

from kairos_devstack.story_clients import (
    PASSWORD,
    Endpoints,
    Operator,
    StoryError,
    bearer,
    declarer_let_in,
    expect,
    first_login,
    login,
    move_clock,
    open_hours_ahead,
    organisation_known,
    wait_for,
)
from kairos_devstack.testing import valid_siret
from kairos_shared.tokens import ACCESS_TOKEN_LIFETIME

REFUSED = {401, 403, 429}
"""A revoked person's answers: refused, and once their logins keep failing, slowed down (K8)."""
PROPAGATION_BOUND = 30.0
"""Seconds after a revocation's answer past which a revoked person accepted is wrong (the
ending travels through Kafka: just after the answer, a request may still pass)."""


@dataclass
class Person:
    habilitation_id: str
    login_id: str
    token: str
    revoked_at: float | None = None
    """When the ending was answered (monotonic seconds)."""

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None


@dataclass
class OF:
    id: str
    rgc_login_id: str
    rgc_token: str
    people: list[Person] = field(default_factory=list)
    session: dict[str, str] = field(default_factory=dict)
    trainees: int = 0
    hired: int = 0
    """People habilitated so far (numbers their e-mail addresses)."""


@dataclass
class SoakReport:
    organisations: int = 0
    people: int = 0
    seconds: float = 0.0
    outcomes: Counter[str] = field(default_factory=Counter)
    """``<action>:<accepted|refused|wrong>`` → count."""
    wrong: list[str] = field(default_factory=list)

    def record(
        self, action: str, response: httpx.Response, *, expected: set[int],
        revoked_at: float | None = None,
    ) -> bool:  # fmt: skip
        if response.status_code in expected:
            self.outcomes[f"{action}:accepted"] += 1
            late = revoked_at is not None and time.monotonic() - revoked_at > PROPAGATION_BOUND
            if late:
                self.wrong.append(f"{action}: accepted {PROPAGATION_BOUND:.0f}+ s after revocation")
            return True
        if response.status_code in REFUSED and "refusable" in action:
            self.outcomes[f"{action}:refused"] += 1
            return False
        self.outcomes[f"{action}:wrong"] += 1
        self.wrong.append(f"{action}: {response.status_code} {response.text[:200]}")
        return False


class Soak:
    def __init__(self, endpoints: Endpoints, clients: dict[str, httpx.AsyncClient], seed: int):
        self.endpoints = endpoints
        self.identity = clients["identity"]
        self.habilitation = clients["habilitation"]
        self.declaration = clients["declaration"]
        self.operator = Operator(self.identity, endpoints)
        self.random = random.Random(seed)  # noqa: S311 - load mix, not a secret
        self.run = secrets.token_hex(3)
        self.report = SoakReport()
        self.month = date.min

    async def organisation(self, n: int) -> OF:
        rgc = await self.validated_organisation(n)
        token = await first_login(self.identity, rgc["login_id"], rgc["provisional_password"])
        await organisation_known(self.habilitation, str(rgc["organisation_id"]), token)
        digits = f"{self.seed(n) % 10**10:010d}"
        session = {"action_number": f"84_AF_{digits}", "session_number": f"84_SE_{digits}"}
        return OF(str(rgc["organisation_id"]), str(rgc["login_id"]), token, session=session)

    def seed(self, n: int) -> int:
        return int(self.run, 16) * 1000 + n

    async def validated_organisation(self, n: int) -> dict[str, Any]:
        """An adhesion, validated by the operator: the RGC's provisional credentials (its
        ``account_id`` and ``login_id``) and the ``organisation_id``; nobody logged in yet."""
        seed = self.seed(n)
        body = {
            "siret": valid_siret(seed), "nda": "84690000069", "legal_name": f"Soak {self.run}-{n}",
            "address": {"street": "1 rue de la Paix", "postal_code": "69002", "city": "Lyon"},
            "head": {"first_name": "Inès", "last_name": "Roux", "function": "Directrice",
                     "email": f"head.{self.run}.{n}@of.example"},
            "rgc": {"first_name": "Paul", "last_name": "Rgc",
                    "email": f"rgc.{self.run}.{n}@of.example"},
            "terms": {"version": "2017-09-15", "accepted_on": "2026-01-05"},
        }  # fmt: skip
        organisation_id = expect(await self.identity.post("/v1/organisations", json=body), 201)[
            "organisation_id"
        ]
        rgc = await self.operator.post(f"/v1/organisations/{organisation_id}/validation", 201)
        return {**rgc, "organisation_id": organisation_id}

    async def as_rgc(
        self, of: OF, client: httpx.AsyncClient, method: str, path: str,
        body: dict[str, Any] | None = None,
    ) -> httpx.Response:  # fmt: skip
        """The RGC's request, logging in again once when its token expired (10 minutes)."""
        for _ in range(2):
            response = await client.request(method, path, json=body, headers=bearer(of.rgc_token))
            if response.status_code != httpx.codes.UNAUTHORIZED:
                return response
            of.rgc_token = await login(self.identity, of.rgc_login_id)
        return response

    async def habilitate(self, of: OF, n: int) -> Person:
        email = f"user.{self.run}.{of.id[:8]}.{n}@of.example"
        body = {
            "role": "user",
            "person": {"first_name": "Fanny", "last_name": f"Soak{n}", "email": email},
            "function": "formatrice",
            "authorisation": {"signed_by": "Inès Roux", "signed_on": "2026-01-05",
                              "document_sha256": uuid.uuid4().hex * 2},
            "employee_attested": True,
        }  # fmt: skip
        recorded = await self.as_rgc(
            of, self.habilitation, "POST", f"/v1/organisations/{of.id}/habilitations", body
        )
        habilitation_id = str(expect(recorded, 201)["habilitation_id"])

        async def account() -> str | None:
            view = await self.operator.get(
                f"/v1/habilitations/{habilitation_id}", self.habilitation
            )
            return view["account_id"] if view["status"] == "active" else None

        account_id = await wait_for(account, f"habilitation {habilitation_id} active")
        credentials = expect(
            await self.as_rgc(
                of, self.identity, "GET", f"/v1/accounts/{account_id}/provisional-credentials"
            ),
            200,
        )
        token = await first_login(
            self.identity, credentials["login_id"], credentials["provisional_password"]
        )
        return Person(habilitation_id, credentials["login_id"], token)

    async def register_session(self, of: OF, person: Person) -> None:
        ends = self.month + timedelta(days=200)
        body = {**of.session, "starts_on": self.month.isoformat(), "ends_on": ends.isoformat(),
                "weekly_hours": 35}  # fmt: skip
        await declarer_let_in(self.declaration, of.id, person.token, person.login_id)
        expect(
            await self.declaration.post(
                f"/v1/organisations/{of.id}/sessions", json=body,
                headers=bearer(person.token) | {"Idempotency-Key": str(uuid.uuid4())},
            ),
            201,
        )  # fmt: skip

    # --- the actions of the mix ---------------------------------------------------------------

    async def declare(self, of: OF) -> None:
        person = self.random.choice(of.people)
        of.trainees += 1
        trainee = f"{(int(of.id[:6], 16) * 100 + of.trainees) % 10**7:07d}S"
        base = f"/v1/organisations/{of.id}"
        entry = {"session": of.session, "trainee_id": trainee, "entered_on": self.month.isoformat()}
        response = await self.post_declaration(person, f"{base}/entries", entry)
        if not self._record(person, "declare", response):
            return
        attendance = {"session": of.session, "trainee_id": trainee,
                      "month": f"{self.month:%Y-%m}", "attended_hours": 70}  # fmt: skip
        response = await self.post_declaration(person, f"{base}/attendance-statements", attendance)
        self._record(person, "declare", response)

    def _record(self, person: Person, action: str, response: httpx.Response) -> bool:
        """Classified once answered: another worker may have revoked the person meanwhile."""
        label = f"{action}(refusable)" if person.revoked else action
        return self.report.record(label, response, expected={201}, revoked_at=person.revoked_at)

    async def post_declaration(
        self, person: Person, path: str, body: dict[str, Any]
    ) -> httpx.Response:
        """POST, logging in again once when the token expired (tokens live 10 minutes)."""
        key = str(uuid.uuid4())
        for _ in range(2):
            response = await self.declaration.post(
                path, json=body, headers=bearer(person.token) | {"Idempotency-Key": key}
            )
            if response.status_code != httpx.codes.UNAUTHORIZED or person.revoked:
                return response
            try:
                person.token = await login(self.identity, person.login_id)
            except StoryError:
                if person.revoked_at is not None:  # revoked meanwhile by another worker: rightly
                    return response
                raise
        return response

    async def log_in(self, of: OF) -> None:
        person = self.random.choice(of.people)
        response = await self.identity.post(
            "/v1/sessions", json={"login_id": person.login_id, "password": PASSWORD}
        )
        if self._record(person, "login", response):
            person.token = str(response.json()["access_token"])

    async def revoke(self, of: OF) -> None:
        live = [p for p in of.people if not p.revoked]
        if len(live) <= 1:
            return
        person = self.random.choice(live)
        person.revoked_at = time.monotonic()  # no other worker picks the same person
        response = await self.as_rgc(
            of, self.habilitation, "POST", f"/v1/habilitations/{person.habilitation_id}/ending",
            {"reason": "departure"},
        )  # fmt: skip
        if self.report.record("revoke", response, expected={200}):
            person.revoked_at = time.monotonic()
            of.hired += 1
            of.people.append(await self.habilitate(of, of.hired))
            self.report.people += 1

    async def review(self, of: OF) -> None:
        opened = await self.operator.send(
            self.habilitation, "POST", f"/v1/organisations/{of.id}/reviews"
        )
        if opened.status_code == httpx.codes.CONFLICT:  # one a year: already done
            self.report.outcomes["review:already"] += 1
            return
        campaign = expect(opened, 201)
        self.report.outcomes["review:accepted"] += 1
        people = {p.habilitation_id: p for p in of.people}
        for habilitation_id in campaign["undecided"]:
            decision = {"habilitation_id": habilitation_id, "decision": "confirmed"}
            response = await self.as_rgc(
                of, self.habilitation, "POST", f"/v1/reviews/{campaign['campaign_id']}/decisions",
                decision,
            )  # fmt: skip
            person = people.get(habilitation_id)
            if response.status_code == httpx.codes.CONFLICT and person and person.revoked:
                self.report.outcomes["review_decision:ended_meanwhile"] += 1  # 409, rightly
                continue
            self.report.record("review_decision", response, expected={200, 201})

    async def worker(self, organisations: list[OF], deadline: float) -> None:
        actions = [(self.log_in, 30), (self.declare, 50), (self.revoke, 8), (self.review, 2)]
        weights = [weight for _, weight in actions]
        while time.monotonic() < deadline:
            action = self.random.choices(actions, weights)[0][0]
            of = self.random.choice(organisations)
            try:
                await action(of)
            except (StoryError, httpx.HTTPError) as error:
                self.report.outcomes[f"{action.__name__}:wrong"] += 1
                self.report.wrong.append(f"{action.__name__}: {error}")


async def _prepare(soak: Soak, organisations: int, people: int) -> list[OF]:
    await soak.operator.bootstrap(soak.run)
    created: list[OF] = []
    for n in range(organisations):
        of = await soak.organisation(n)
        of.people = list(await asyncio.gather(*(soak.habilitate(of, i) for i in range(people))))
        of.hired = people
        await soak.register_session(of, of.people[0])
        created.append(of)
    soak.report.organisations, soak.report.people = organisations, organisations * people
    return created


async def run_soak(
    endpoints: Endpoints, *, seconds: float, organisations: int = 20, people: int = 10,
    workers: int = 8, seed: int = 2026,
) -> SoakReport:  # fmt: skip
    """Prepare the OFs and people, run the mix for ``seconds``, and return what happened."""
    await endpoints.check_ready()
    now = open_hours_ahead(endpoints.clock_offset_file)
    async with (
        httpx.AsyncClient(base_url=endpoints.identity, timeout=60) as identity,
        httpx.AsyncClient(base_url=endpoints.habilitation, timeout=60) as habilitation,
        httpx.AsyncClient(base_url=endpoints.declaration, timeout=60) as declaration,
    ):
        clients = {"identity": identity, "habilitation": habilitation, "declaration": declaration}
        soak = Soak(endpoints, clients, seed)
        soak.month = (now.date().replace(day=1) - timedelta(days=1)).replace(day=1)
        ofs = await _prepare(soak, organisations, people)
        started = time.monotonic()
        deadline = started + seconds
        await asyncio.gather(
            *(soak.worker(ofs, deadline) for _ in range(workers)),
            _expire_tokens_midway(endpoints, seconds / 2),
        )
        soak.report.seconds = time.monotonic() - started
    return soak.report


async def _expire_tokens_midway(endpoints: Endpoints, after: float) -> None:
    """Halfway, the platform's clock jumps past a token's life: even a short run then meets
    expired tokens, and every client must log in again (a long run meets them anyway)."""
    await asyncio.sleep(after)
    move_clock(endpoints.clock_offset_file, ACCESS_TOKEN_LIFETIME + timedelta(minutes=1))


def summary(report: SoakReport) -> dict[str, Any]:
    return {
        "organisations": report.organisations, "people": report.people,
        "seconds": round(report.seconds, 1), "outcomes": dict(sorted(report.outcomes.items())),
        "wrong": report.wrong[:20],
    }  # fmt: skip
