"""The whole story, told to a running platform over its public interfaces (``make demo``, and
the end-to-end test): HTTP for people, Kafka for the integrator, the SMTP sink for e-mails.

adhesion → operator validation → RGC e-mail and first login with password change → the RGC
habilitates a user (signed authorisation) → the user's e-mail; credentials handed over by the
RGC; login and password change → an entry and a month of attendance → an integrator receives
both → the RGC ends the habilitation → the user's next declaration is refused → the head
designates a new RGC, an operator validates it, the new RGC never logs in: on day 21 the post
falls vacant and the head is told it holds the RGC's rights → another OF, whose first RGC let
day 21 pass before opening the head's account, recovers: without an account, it asks for a new
RGC (SIRET, head as declared), an operator validates and hands over the credentials, and the
new RGC logs in and acts.

Nothing here reaches into a service: a step that fails raises :class:`StoryError` saying what
was expected. The last step lets 21 days pass by moving the stack's shared clock
(:class:`kairos_shared.clock.OffsetClock`), which only a development stack has.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx

from kairos_devstack.story_clients import (
    PARIS,
    PASSWORD,
    DeclarationsFeed,
    Endpoints,
    Mail,
    Mailbox,
    Operator,
    StoryError,
    bearer,
    declarer_let_in,
    expect,
    first_login,
    move_clock,
    open_hours_ahead,
    organisation_known,
    wait_for,
)
from kairos_devstack.testing import valid_siret

Narrate = Callable[[str], None]
DAY_21 = timedelta(days=22)
"""Past the end of the new RGC's 21st day (K6: the deadline is the end of the last day in the
OF's zone), whatever the hour the designation was made."""


@dataclass
class StoryResult:
    """What the story saw, for the end-to-end test to check."""

    organisation_id: str = ""
    mails: list[Mail] = field(default_factory=list)
    integrator_events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    refusal_status: int = 0
    accepted_before_refusal: int = 0
    """Declarations the revoked user made before the ending reached the declaration service."""
    vacancy: dict[str, Any] = field(default_factory=dict)
    recovered: dict[str, Any] = field(default_factory=dict)
    """The RGC post of the OF that recovered through a new designation (the last chapter)."""
    secrets_shown: list[str] = field(default_factory=list)
    """Every password and provisional password of the story: no e-mail may contain one."""


@dataclass
class _People:
    run: str
    head: str = ""
    rgc: str = ""
    user: str = ""
    new_rgc: str = ""
    other_head: str = ""
    other_rgc: str = ""
    successor: str = ""

    def __post_init__(self) -> None:
        self.head = f"ines.roux.{self.run}@of.example"
        self.rgc = f"paul.rgc.{self.run}@of.example"
        self.user = f"fanny.martin.{self.run}@of.example"
        self.new_rgc = f"nora.blanc.{self.run}@of.example"
        self.other_head = f"jeanne.leroy.{self.run}@of.example"
        self.other_rgc = f"marc.dubois.{self.run}@of.example"
        self.successor = f"lea.moreau.{self.run}@of.example"


def _authorisation(email: str) -> dict[str, str]:
    document = f"Autorisation signée par la direction pour {email}".encode()
    return {
        "signed_by": "Inès Roux",
        "signed_on": "2026-01-05",
        "document_sha256": hashlib.sha256(document).hexdigest(),
    }


def _previous_month(today: date) -> date:
    return (today.replace(day=1) - timedelta(days=1)).replace(day=1)


class Story:
    def __init__(self, endpoints: Endpoints, clients: dict[str, httpx.AsyncClient], say: Narrate):
        self.endpoints = endpoints
        self.identity = clients["identity"]
        self.habilitation = clients["habilitation"]
        self.declaration = clients["declaration"]
        self.operator = Operator(self.identity, endpoints)
        self.mailbox = Mailbox(clients["notification"], clients["smtp"], self.operator)
        self.say = say
        self.people = _People(secrets.token_hex(3))
        self.result = StoryResult(secrets_shown=[PASSWORD])
        self.rgc_account_id = ""
        self.today = date.min

    async def tell(self) -> StoryResult:
        now = open_hours_ahead(self.endpoints.clock_offset_file)
        self.today = now.astimezone(PARIS).date()
        self.say(f"The platform's clock is set to {now:%A %d %B %Y %H:%M} UTC (opening hours).")
        await self.operator.bootstrap(self.people.run)
        self.result.secrets_shown.append(self.operator.provisional_password)
        self.say(f"1. Operator {self.operator.login_id} bootstrapped and logged in.")
        organisation_id, rgc_token = await self._adhesion()
        user_habilitation, user_token = await self._user(organisation_id, rgc_token)
        trainee = await self._declarations(organisation_id, user_token)
        await self._revocation(organisation_id, rgc_token, user_habilitation, user_token, trainee)
        locked_out = await self._locked_out_organisation()
        await self._rgc_lapse(organisation_id, rgc_token)
        await self._recovery(locked_out)
        self._check_no_secret_in_mails()
        return self.result

    async def _adhesion(self) -> tuple[str, str]:
        seed = int(self.people.run, 16)
        body = {
            "siret": valid_siret(seed), "nda": "84690000069",
            "legal_name": f"Organisme de démonstration {self.people.run}",
            "address": {"street": "1 place Bellecour", "postal_code": "69002", "city": "Lyon"},
            "head": {"first_name": "Inès", "last_name": "Roux", "function": "Directrice",
                     "email": self.people.head},
            "rgc": {"first_name": "Paul", "last_name": "Rgc", "email": self.people.rgc},
            "terms": {"version": "2017-09-15", "accepted_on": "2026-01-05"},
        }  # fmt: skip
        requested = expect(await self.identity.post("/v1/organisations", json=body), 201)
        organisation_id = str(requested["organisation_id"])
        self.result.organisation_id = organisation_id
        self.say(f"2. Adhesion requested: organisation {organisation_id}.")
        rgc = await self.operator.post(f"/v1/organisations/{organisation_id}/validation", 201)
        self.result.secrets_shown.append(rgc["provisional_password"])
        self.rgc_account_id = rgc["account_id"]
        self.say(
            f"3. The operator validated it and hands the RGC its login id {rgc['login_id']} "
            "and provisional password (never by e-mail)."
        )
        mail = await self.mailbox.received(self.people.rgc, "rgc_account_created")
        self.result.mails.append(mail)
        self.say(f"4. E-mail to the RGC: « {mail.subject} »")
        token = await first_login(self.identity, rgc["login_id"], rgc["provisional_password"])
        self.say("5. The RGC logged in for the first time and chose its password.")
        await organisation_known(self.habilitation, organisation_id, token)
        return organisation_id, token

    async def _holder(self, organisation_id: str, rgc_token: str, email: str, role: str) -> Any:
        """The RGC habilitates a person; the account opens; the RGC hands over the credentials;
        the person logs in and chooses a password: (habilitation id, token)."""
        body = {
            "role": role,
            "person": {"first_name": email.split(".", 1)[0].capitalize(), "last_name": "Martin",
                       "email": email},
            "function": "formatrice" if role == "user" else "Directrice",
            "authorisation": _authorisation(email),
            "employee_attested": True,
        }  # fmt: skip
        recorded = expect(
            await self.habilitation.post(
                f"/v1/organisations/{organisation_id}/habilitations", json=body,
                headers=bearer(rgc_token),
            ),
            201,
        )  # fmt: skip
        habilitation_id = str(recorded["habilitation_id"])

        async def active() -> str | None:
            view = await self.operator.get(
                f"/v1/habilitations/{habilitation_id}", self.habilitation
            )
            return view["account_id"] if view["status"] == "active" else None

        account_id = await wait_for(active, f"the habilitation {habilitation_id} to be active")
        credentials = expect(
            await self.identity.get(
                f"/v1/accounts/{account_id}/provisional-credentials", headers=bearer(rgc_token)
            ),
            200,
        )
        self.result.secrets_shown.append(credentials["provisional_password"])
        token = await first_login(
            self.identity, credentials["login_id"], credentials["provisional_password"]
        )
        return habilitation_id, token

    async def _user(self, organisation_id: str, rgc_token: str) -> tuple[str, str]:
        habilitation_id, token = await self._holder(
            organisation_id, rgc_token, self.people.user, "user"
        )
        self.say(
            "6. The RGC habilitated a trainer (authorisation signed by the head, SHA-256 "
            "recorded); identity opened the account."
        )
        mail = await self.mailbox.received(self.people.user, "account_created")
        self.result.mails.append(mail)
        self.say(f"7. E-mail to the trainer: « {mail.subject} »")
        self.say(
            "8. The RGC handed over the trainer's credentials; the trainer logged in and "
            "chose a password."
        )
        return habilitation_id, token

    async def _declarations(self, organisation_id: str, token: str) -> str:
        month = _previous_month(self.today)
        digits = f"{int(self.people.run, 16) % 10**10:010d}"
        session = {"action_number": f"84_AF_{digits}", "session_number": f"84_SE_{digits}"}
        trainee = f"{int(self.people.run, 16) % 10**7:07d}A"
        base = f"/v1/organisations/{organisation_id}"
        ends = month + timedelta(days=180)
        body = {**session, "starts_on": month.isoformat(), "ends_on": ends.isoformat(),
                "weekly_hours": 35}  # fmt: skip

        async with DeclarationsFeed(self.endpoints.kafka, trainee) as feed:
            await declarer_let_in(self.declaration, organisation_id, token, "the trainer")
            await self._declare(f"{base}/sessions", body, token)
            entry = {"session": session, "trainee_id": trainee, "entered_on": month.isoformat()}
            declared = await self._declare(f"{base}/entries", entry, token)
            self.say(
                f"9. The trainer declared trainee {trainee}'s entry on {month:%d/%m/%Y} "
                f"(late: {declared['late']})."
            )
            attendance = {"session": session, "trainee_id": trainee,
                          "month": f"{month:%Y-%m}", "attended_hours": 70,
                          "justified_absence_hours": 3.5}  # fmt: skip
            await self._declare(f"{base}/attendance-statements", attendance, token)
            self.say(f"10. …and the attendance of {month:%m/%Y}: 70 h, 3.5 h justified absence.")
            self.result.integrator_events = await feed.events(2)
        kinds = ", ".join(kind.rsplit(".", 2)[-2] for kind, _ in self.result.integrator_events)
        self.say(f"11. An integrator's consumer group received both from Kafka: {kinds}.")
        return trainee

    async def _declare(self, path: str, body: dict[str, Any], token: str) -> dict[str, Any]:
        headers = bearer(token) | {"Idempotency-Key": str(uuid.uuid4())}
        response = await self.declaration.post(path, json=body, headers=headers)
        return expect(response, 201)

    async def _revocation(
        self, organisation_id: str, rgc_token: str, habilitation_id: str, token: str, trainee: str
    ) -> None:
        ended = await self.habilitation.post(
            f"/v1/habilitations/{habilitation_id}/ending", json={"reason": "departure"},
            headers=bearer(rgc_token),
        )  # fmt: skip
        expect(ended, 200)
        self.say("12. The RGC ended the trainer's habilitation (departure).")
        digits = f"{int(self.people.run, 16) % 10**10:010d}"
        exit_ = {"session": {"action_number": f"84_AF_{digits}",
                             "session_number": f"84_SE_{digits}"},
                 "trainee_id": trainee, "exited_on": self.today.isoformat(),
                 "exit_kind": "abandonment", "reason": "employment"}  # fmt: skip

        async def refused() -> httpx.Response | None:
            response = await self.declaration.post(
                f"/v1/organisations/{organisation_id}/exits", json=exit_,
                headers=bearer(token) | {"Idempotency-Key": str(uuid.uuid4())},
            )  # fmt: skip
            if response.status_code == httpx.codes.CREATED:  # the ending is still in Kafka
                self.result.accepted_before_refusal += 1
            return response if response.status_code in {401, 403} else None

        refusal = await wait_for(refused, "the trainer's next declaration to be refused")
        self.result.refusal_status = refusal.status_code
        self.say(
            f"13. The trainer's next declaration is refused: {refusal.status_code} "
            f"« {refusal.json().get('title', '')} »."
        )
        if self.result.accepted_before_refusal:
            self.say(
                "    (one exit sent in the instant before the ending reached the declaration "
                "service through Kafka was still accepted)"
            )

    async def _rgc_lapse(self, organisation_id: str, rgc_token: str) -> None:
        _, head_token = await self._holder(organisation_id, rgc_token, self.people.head, "head")
        self.say("14. The RGC habilitated the head, who logged in.")
        post = f"/v1/organisations/{organisation_id}/rgc"
        designation = {"first_name": "Nora", "last_name": "Blanc",
                       "email": self.people.new_rgc, "reason": "departure"}  # fmt: skip
        designated = expect(
            await self.habilitation.put(post, json=designation, headers=bearer(head_token)), 202
        )
        await self._validated(designated["rgc_designation_id"])

        async def new_rgc_in_office() -> dict[str, Any] | None:
            view = await self.operator.get(post, self.habilitation)
            held = view["rgc_account_id"] not in (None, self.rgc_account_id)
            return view if held else None

        await wait_for(new_rgc_in_office, "the new RGC to take office")
        # The first RGC's departure left the post vacant a moment: the head was told once
        # already; step 17 waits for the e-mail of the day-21 vacancy, not that one.
        departure = await self.mailbox.received(self.people.head, "rgc_post_vacant_head_in_charge")
        self.say(
            f"15. The head designated a new RGC ({self.people.new_rgc}); an operator validated "
            "it and hands over the credentials: 21 days to log in."
        )
        move_clock(self.endpoints.clock_offset_file, DAY_21)
        self.say("16. 21 whole days pass (the stack's clock moves); the new RGC never logged in.")

        async def vacant() -> dict[str, Any] | None:
            view = await self.operator.get(post, self.habilitation)
            return view if view["vacant_since"] is not None else None

        self.result.vacancy = await wait_for(vacant, "the RGC post to fall vacant")
        mail = await self.mailbox.received(
            self.people.head, "rgc_post_vacant_head_in_charge",
            besides={departure.notification_id},
        )  # fmt: skip
        self.result.mails += [departure, mail]
        self.say(f"17. The post is vacant; e-mail to the head: « {mail.subject} »")

    async def _validated(self, designation_id: str) -> dict[str, Any]:
        """An operator validates a designation and, once the account is open, sees its
        provisional credentials (once) to hand them over."""
        path = f"/v1/rgc-designations/{designation_id}"
        expect(await self.operator.send(self.habilitation, "POST", f"{path}/validation"), 200)

        async def opened() -> dict[str, Any] | None:
            response = await self.operator.send(
                self.identity, "GET", f"{path}/provisional-credentials"
            )
            return None if response.status_code == httpx.codes.NOT_FOUND else expect(response, 200)

        credentials = await wait_for(opened, f"the account of designation {designation_id}")
        self.result.secrets_shown.append(credentials["provisional_password"])
        return credentials

    async def _locked_out_organisation(self) -> tuple[str, str]:
        """Another OF, validated now; its RGC will never log in (the last chapter):
        (organisation id, SIRET)."""
        seed = int(self.people.run, 16) + 1
        body = {
            "siret": valid_siret(seed), "nda": "84690000069",
            "legal_name": f"Organisme de démonstration {self.people.run} bis",
            "address": {"street": "2 rue de la République", "postal_code": "69001",
                        "city": "Lyon"},
            "head": {"first_name": "Jeanne", "last_name": "Leroy", "function": "Directrice",
                     "email": self.people.other_head},
            "rgc": {"first_name": "Marc", "last_name": "Dubois", "email": self.people.other_rgc},
            "terms": {"version": "2017-09-15", "accepted_on": "2026-01-05"},
        }  # fmt: skip
        requested = expect(await self.identity.post("/v1/organisations", json=body), 201)
        organisation_id = str(requested["organisation_id"])
        rgc = await self.operator.post(f"/v1/organisations/{organisation_id}/validation", 201)
        self.result.secrets_shown.append(rgc["provisional_password"])
        self.say(
            f"    (Meanwhile another OF, {organisation_id}, joined; its RGC "
            f"{self.people.other_rgc} will never log in.)"
        )
        return organisation_id, str(body["siret"])

    async def _recovery(self, locked_out: tuple[str, str]) -> None:
        organisation_id, siret = locked_out
        post = f"/v1/organisations/{organisation_id}/rgc"

        async def nobody_in_charge() -> dict[str, Any] | None:
            view = await self.operator.get(post, self.habilitation)
            return view if view["vacant_since"] is not None else None

        vacancy = await wait_for(nobody_in_charge, "the other OF's RGC post to fall vacant")
        if vacancy["rgc_rights_held_by"] is not None:
            raise StoryError(f"the other OF's head should have no account yet: {vacancy}")
        mail = await self.mailbox.received(self.people.other_head, "rgc_post_vacant_head_in_charge")
        self.result.mails.append(mail)
        self.say(
            "18. The other OF's first RGC let day 21 pass before opening the head's account: "
            f"nobody holds the RGC's rights. E-mail to its head: « {mail.subject} »"
        )
        request = {
            "siret": siret,
            "head": {"first_name": "Jeanne", "last_name": "Leroy",
                     "email": self.people.other_head},
            "new_rgc": {"first_name": "Léa", "last_name": "Moreau",
                        "email": self.people.successor},
        }  # fmt: skip
        requested = expect(
            await self.habilitation.post("/v1/rgc-designation-requests", json=request), 202
        )
        self.say(
            f"19. Without an account, the head asked for a new RGC ({self.people.successor}) "
            "with the OF's SIRET, checked against the head its adhesion declared."
        )
        listed = await self.operator.send(
            self.habilitation, "GET", f"/v1/rgc-designations?organisation_id={organisation_id}"
        )
        pending: list[dict[str, Any]] = listed.json()
        if [d["rgc_designation_id"] for d in pending] != [requested["rgc_designation_id"]]:
            raise StoryError(f"the operator should see the request pending: {pending}")
        credentials = await self._validated(requested["rgc_designation_id"])
        self.say(
            "20. An operator saw the request pending and validated it; the response showed "
            f"the new RGC's login id {credentials['login_id']} and provisional password once, "
            "for the operator to hand over (never by e-mail)."
        )
        mail = await self.mailbox.received(self.people.successor, "rgc_account_created")
        self.result.mails.append(mail)
        self.say(f"21. E-mail to the new RGC: « {mail.subject} »")
        token = await first_login(
            self.identity, credentials["login_id"], credentials["provisional_password"]
        )

        async def in_office() -> dict[str, Any] | None:
            view = await self.operator.get(post, self.habilitation)
            return view if view["rgc_account_id"] == credentials["account_id"] else None

        self.result.recovered = await wait_for(in_office, "the new RGC to take office")
        head = {
            "role": "head",
            "person": {"first_name": "Jeanne", "last_name": "Leroy",
                       "email": self.people.other_head},
            "function": "Directrice", "authorisation": _authorisation(self.people.other_head),
            "employee_attested": True,
        }  # fmt: skip
        expect(
            await self.habilitation.post(
                f"/v1/organisations/{organisation_id}/habilitations", json=head,
                headers=bearer(token),
            ),
            201,
        )  # fmt: skip
        self.say(
            "22. The new RGC logged in, chose a password and took office: the OF acts again "
            "(the RGC habilitated its head)."
        )

    def _check_no_secret_in_mails(self) -> None:
        for mail in self.result.mails:
            for secret in self.result.secrets_shown:
                if secret and secret in mail.text + mail.html:
                    raise StoryError(f"the e-mail « {mail.subject} » contains a password")


@asynccontextmanager
async def _clients(endpoints: Endpoints) -> AsyncIterator[dict[str, httpx.AsyncClient]]:
    async with AsyncExitStack() as stack:
        yield {
            name: await stack.enter_async_context(httpx.AsyncClient(base_url=url, timeout=30.0))
            for name, url in endpoints.http().items()
        }


async def tell_the_story(endpoints: Endpoints, say: Narrate = print) -> StoryResult:
    """Run the whole story against the platform at ``endpoints``; raise StoryError if a step
    does not happen as the rules say."""
    await endpoints.check_ready()
    async with _clients(endpoints) as clients:
        return await Story(endpoints, clients, say).tell()


def demo(root: Path, say: Narrate = print) -> int:
    """``python -m kairos_devstack demo``: the story against the stack ``make run`` started."""
    endpoints = Endpoints.of_local_stack(root)
    try:
        result = asyncio.run(tell_the_story(endpoints, say))
    except StoryError as error:
        say(f"the story stopped: {error}")
        return 1
    say("")
    for mail in result.mails:
        say(f"── e-mail to {mail.recipient}: {mail.subject}\n{mail.text.strip()}\n")
    say(f"Every e-mail is in the SMTP sink: {endpoints.smtp_http}/api/v1/messages")
    say(
        f"The stack's clock now runs ahead of this machine's (offset in "
        f"{endpoints.clock_offset_file}); `make clean` resets it with the data."
    )
    return 0
