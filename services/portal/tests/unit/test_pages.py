"""The portal's pages against fakes of the four services: routing, web sessions (cookie,
tokens kept server-side, refresh, idle timeout, logout), CSRF, safeguard headers, and how the
services' refusals are shown."""

from __future__ import annotations

import hashlib
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from kairos_portal.bootstrap import create_app
from kairos_portal.config import PortalSettings
from kairos_portal.domain.web_sessions import digest
from kairos_portal.entrypoints.security import PRE_SESSION_COOKIE, SESSION_COOKIE
from kairos_portal.service_layer.ports import Answer, Request
from kairos_portal.testing import (
    ORGANISATION,
    FakeServices,
    MemorySessions,
    problem,
    tokens,
)
from kairos_shared.clock import ManualClock

ORG = f"/v1/organisations/{ORGANISATION}"
ACTIVE_ORGANISATION = Answer(
    200, {"legal_name": "OF", "siret": "1", "status": "active", "access_expires_at": None}
)


@dataclass
class Portal:
    client: httpx.AsyncClient
    services: FakeServices
    sessions: MemorySessions
    clock: ManualClock

    async def csrf(self, path: str) -> str:
        page = await self.client.get(path)
        found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert found, f"no CSRF token on {path}"
        return found[1]

    async def sign_in(self, role: str = "rgc", *, change_only: bool = False) -> None:
        self.services.on("identity", "POST", "/v1/sessions", tokens(role, change_only=change_only))
        token = await self.csrf("/connexion")
        answer = await self.client.post(
            "/connexion", data={"login_id": "pdupont", "password": "secret", "csrf_token": token}
        )
        assert answer.status_code == 303, answer.text


@asynccontextmanager
async def _portal(*, development: bool = True) -> AsyncIterator[Portal]:
    services, sessions = FakeServices(), MemorySessions()
    clock = ManualClock(datetime(2027, 1, 12, 9, 0, tzinfo=UTC))
    settings = PortalSettings(development=development, session_idle_minutes=30)
    app = create_app(settings, api=services, sessions=sessions, clock=clock)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield Portal(client, services, sessions, clock)


@pytest.fixture
async def portal() -> AsyncIterator[Portal]:
    async with _portal() as running:
        yield running


async def test_the_home_page_sends_strangers_to_the_sign_in_page(portal: Portal) -> None:
    answer = await portal.client.get("/")
    assert (answer.status_code, answer.headers["location"]) == (303, "/connexion")


async def test_every_page_forbids_framing_and_inline_script(portal: Portal) -> None:
    page = await portal.client.get("/connexion")
    policy = page.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy
    assert "script-src 'self';" in policy
    assert "unsafe-inline" not in policy
    assert page.headers["x-content-type-options"] == "nosniff"
    assert not re.search(r"<script(?![^>]*\bsrc=)", page.text)  # no inline script
    assert '<html lang="fr"' in page.text


async def test_a_form_without_its_csrf_token_is_refused_before_any_service_is_called(
    portal: Portal,
) -> None:
    await portal.client.get("/connexion")
    answer = await portal.client.post("/connexion", data={"login_id": "x", "password": "y",
                                                    "csrf_token": "forged"})  # fmt: skip
    assert answer.status_code == 403
    assert "Ce formulaire a expiré" in answer.text
    assert portal.services.sent == []


async def test_signing_in_keeps_the_tokens_server_side_behind_an_opaque_cookie(
    portal: Portal,
) -> None:
    await portal.sign_in()
    cookie = portal.client.cookies[SESSION_COOKIE]
    (stored,) = portal.sessions.rows.values()
    assert stored.key == digest(cookie) == hashlib.sha256(cookie.encode()).digest()
    assert cookie not in (stored.access_token, stored.refresh_token)
    assert "refresh-1" not in cookie


async def test_the_session_cookie_is_httponly_lax_and_secure_outside_development() -> None:
    async with _portal(development=False) as portal:
        portal.services.on("identity", "POST", "/v1/sessions", tokens())
        page = await portal.client.get("/connexion")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert token
        portal.client.cookies.set(PRE_SESSION_COOKIE, token[1])
        answer = await portal.client.post(
            "/connexion", data={"login_id": "a", "password": "b", "csrf_token": token[1]}
        )
        set_cookie = answer.headers["set-cookie"].lower()
        assert f"{SESSION_COOKIE}=" in set_cookie
        assert "httponly" in set_cookie
        assert "samesite=lax" in set_cookie
        assert "secure" in set_cookie


async def test_a_provisional_password_leads_to_the_password_choice_with_the_policy(
    portal: Portal,
) -> None:
    await portal.sign_in(change_only=True)
    page = await portal.client.get("/applications")
    assert page.headers["location"] == "/mot-de-passe"
    choice = await portal.client.get("/mot-de-passe")
    assert "Première connexion" in choice.text
    assert "au moins 15 caractères" in choice.text


async def test_the_services_password_refusal_is_shown_on_the_new_password_field(
    portal: Portal,
) -> None:
    await portal.sign_in(change_only=True)
    portal.services.on("identity", "POST", "/v1/accounts/me/password", problem(
        422, "invalid-request", "new_password: too short",
        errors=[{"field": "new_password",
                 "message": "Password must be at least 12 characters long."}],
    ))  # fmt: skip
    answer = await portal.client.post("/mot-de-passe", data={
        "current_password": "prov", "new_password": "court", "confirmation": "court",
        "csrf_token": await portal.csrf("/mot-de-passe"),
    })  # fmt: skip
    assert answer.status_code == 422
    assert 'id="champ-new-password" name="new_password" type="password"' in answer.text
    assert 'aria-invalid="true"' in answer.text
    assert "Password must be at least 12 characters long." in answer.text
    assert '<a href="#champ-new-password">Nouveau mot de passe' in answer.text


async def test_a_changed_password_signs_the_person_in_again(portal: Portal) -> None:
    await portal.sign_in(change_only=True)
    portal.services.on("identity", "POST", "/v1/accounts/me/password", Answer(204, None))
    old_cookie = portal.client.cookies[SESSION_COOKIE]
    portal.services.on("identity", "POST", "/v1/sessions", tokens())
    answer = await portal.client.post("/mot-de-passe", data={
        "current_password": "prov", "new_password": "Une longue phrase de passe",
        "confirmation": "Une longue phrase de passe",
        "csrf_token": await portal.csrf("/mot-de-passe"),
    })  # fmt: skip
    assert answer.headers["location"].startswith("/applications")
    assert digest(old_cookie) not in portal.sessions.rows  # the provisional session is gone
    logins = portal.services.calls("identity", "POST", "/v1/sessions")
    assert logins[-1][0].json == {"login_id": "pdupont", "password": "Une longue phrase de passe"}


async def test_a_wrong_password_is_shown_in_french_on_the_sign_in_form(portal: Portal) -> None:
    await portal.client.get("/connexion")
    portal.services.on("identity", "POST", "/v1/sessions",
                       problem(401, "login-refused", "wrong login id or password"))  # fmt: skip
    answer = await portal.client.post(
        "/connexion",
        data={
            "login_id": "pdupont",
            "password": "x",
            "csrf_token": await portal.csrf("/connexion"),
        },
    )
    assert answer.status_code == 401
    assert "Identifiant ou mot de passe incorrect" in answer.text
    assert 'value="pdupont"' in answer.text
    assert portal.sessions.rows == {}


async def test_closed_hours_are_a_friendly_page_with_the_next_opening(portal: Portal) -> None:
    detail = "La plateforme Kairos est ouverte … Réouverture le lundi 4 janvier 2027 à 07:30."
    portal.services.on("identity", "POST", "/v1/sessions",
                       problem(403, "outside-access-hours", detail))  # fmt: skip
    answer = await portal.client.post(
        "/connexion",
        data={"login_id": "a", "password": "b", "csrf_token": await portal.csrf("/connexion")},
    )
    assert answer.status_code == 403
    assert "La plateforme est fermée en ce moment" in answer.text
    assert "Réouverture le lundi 4 janvier 2027 à 07:30." in answer.text


async def test_an_idle_session_ends_and_its_tokens_are_deleted(portal: Portal) -> None:
    await portal.sign_in()
    portal.services.on("identity", "DELETE", "/v1/sessions/current", Answer(204, None))
    portal.clock.advance(timedelta(minutes=31))
    answer = await portal.client.get("/applications")
    assert answer.headers["location"] == "/connexion?session=terminee"
    assert portal.sessions.rows == {}


async def test_the_access_token_is_refreshed_before_it_expires(portal: Portal) -> None:
    await portal.sign_in()
    portal.services.on("identity", "GET", ORG, ACTIVE_ORGANISATION)
    renewed = tokens()
    renewed.body["refresh_token"] = "refresh-2"
    portal.services.on("identity", "POST", "/v1/sessions/refresh", renewed)
    portal.clock.advance(timedelta(minutes=9, seconds=45))
    assert (await portal.client.get("/applications")).status_code == 200
    assert portal.services.calls("identity", "POST", "/v1/sessions/refresh")[0][0].json == {
        "refresh_token": "refresh-1"
    }
    (stored,) = portal.sessions.rows.values()
    assert stored.refresh_token == "refresh-2"


async def test_logging_out_ends_the_session_at_the_identity_service_and_here(
    portal: Portal,
) -> None:
    await portal.sign_in()
    portal.services.on("identity", "GET", ORG, ACTIVE_ORGANISATION)
    portal.services.on("identity", "DELETE", "/v1/sessions/current", Answer(204, None))
    token = await portal.csrf("/applications")
    answer = await portal.client.post("/deconnexion", data={"csrf_token": token})
    assert answer.headers["location"] == "/connexion?session=deconnecte"
    assert len(portal.services.calls("identity", "DELETE", "/v1/sessions/current")) == 1
    assert portal.sessions.rows == {}


async def test_a_503_with_retry_after_is_shown_as_an_activation_in_progress(portal: Portal) -> None:
    await portal.sign_in("user")
    portal.services.on("declaration", "GET", f"{ORG}/sessions",
                       problem(503, "unavailable", "not yet", retry_after="5"))  # fmt: skip
    answer = await portal.client.get("/kairos")
    assert answer.status_code == 503
    assert answer.headers["retry-after"] == "5"
    assert "Votre organisme est en cours d'activation" in answer.text
    assert '<a href="/kairos">Réessayer</a>' in answer.text


async def test_the_signed_authorisation_is_hashed_from_the_upload_and_not_sent(
    portal: Portal,
) -> None:
    await portal.sign_in()
    recorded = Answer(201, {"habilitation_id": "h-1"})
    portal.services.on("habilitation", "POST", f"{ORG}/habilitations", recorded)
    document = b"%PDF autorisation signee"
    answer = await portal.client.post(
        "/coadha/habilitations/nouvelle",
        data={"csrf_token": await portal.csrf("/coadha/habilitations/nouvelle"),
              "person.first_name": "Fanny", "person.last_name": "Martin",
              "person.email": "fanny@of.example", "function": "formatrice", "role": "user",
              "authorisation.signed_by": "Inès Roux", "authorisation.signed_on": "2027-01-05",
              "employee_attested": "oui"},
        files={"authorisation.document": ("autorisation.pdf", document, "application/pdf")},
    )  # fmt: skip
    assert answer.headers["location"] == "/coadha/habilitations/h-1?info=enregistree"
    ((sent, _),) = portal.services.calls("habilitation", "POST", f"{ORG}/habilitations")
    assert sent.json["authorisation"]["document_sha256"] == hashlib.sha256(document).hexdigest()
    assert sent.json["employee_attested"] is True
    assert "PDF" not in str(sent.json)


async def test_a_habilitation_without_its_document_is_refused_on_that_field(portal: Portal) -> None:
    await portal.sign_in()
    answer = await portal.client.post(
        "/coadha/habilitations/nouvelle",
        data={"csrf_token": await portal.csrf("/coadha/habilitations/nouvelle"),
              "person.first_name": "Fanny"},
    )  # fmt: skip
    assert answer.status_code == 422
    assert 'href="#champ-authorisation-document"' in answer.text
    assert 'value="Fanny"' in answer.text
    assert portal.services.calls("habilitation", "POST", f"{ORG}/habilitations") == []


async def test_the_credentials_hand_over_page_is_never_stored(portal: Portal) -> None:
    await portal.sign_in()
    portal.services.on(
        "habilitation",
        "GET",
        "/v1/habilitations/h-1",
        Answer(
            200,
            {"habilitation_id": "h-1", "person": {"first_name": "Fanny", "last_name": "Martin"}},
        ),
    )
    portal.services.on("identity", "GET", "/v1/accounts/acc-1/provisional-credentials",
                       Answer(200, {"login_id": "fmartin", "provisional_password": "Xy12",
                                    "provisional_until": "2027-01-19T22:59:59+00:00"}))  # fmt: skip
    token = await portal.csrf("/coadha/habilitations/nouvelle")
    answer = await portal.client.post(
        "/coadha/habilitations/h-1/identifiants", data={"csrf_token": token, "account_id": "acc-1"}
    )
    assert answer.status_code == 200
    assert answer.headers["cache-control"] == "no-store"
    assert "fmartin" in answer.text
    assert "Xy12" in answer.text


def _grid(portal: Portal, *trainees: str) -> None:
    entries = [{"trainee_id": t, "entered_on": "2027-01-04", "late": False,
                "due_by": "2027-01-07"} for t in trainees]  # fmt: skip
    portal.services.on("declaration", "GET", f"{ORG}/declarations",
                       Answer(200, {"declarations": entries, "next_cursor": None}))  # fmt: skip


async def test_a_refused_grid_row_is_shown_on_its_grid_row_not_the_sent_rows_index(
    portal: Portal,
) -> None:
    await portal.sign_in("user")
    _grid(portal, "1111111A", "2222222B")
    portal.services.on("declaration", "POST", f"{ORG}/attendance-statements/batch", problem(
        422, "invalid-request", "1 of 1 rows refused",
        errors=[{"field": "rows[0].attended_hours", "message": "too many hours"}],
    ))  # fmt: skip
    url = "/kairos/sessions/AF1/SE1/presences"
    answer = await portal.client.post(url, data={
        "csrf_token": await portal.csrf(f"{url}?mois=2027-01"), "month": "2027-01",
        "idempotency_key": "0b4f6d5e-3a0c-4b6e-9a43-3e0f6b2b7a11",
        "rows-1-attended_hours": "800",
    })  # fmt: skip
    assert answer.status_code == 422
    assert "Ligne 2, colonne « heures suivies » : too many hours" in answer.text
    assert 'id="ligne-2-attended-hours"' in answer.text
    (sent, _), = portal.services.calls("declaration", "POST",
                                       f"{ORG}/attendance-statements/batch")  # fmt: skip
    assert sent.idempotency_key == "0b4f6d5e-3a0c-4b6e-9a43-3e0f6b2b7a11"
    assert [row["trainee_id"] for row in sent.json["rows"]] == ["2222222B"]


async def test_each_shown_form_carries_a_fresh_idempotency_key(portal: Portal) -> None:
    await portal.sign_in("user")
    portal.services.on("declaration", "GET", f"{ORG}/sessions", Answer(200, {"sessions": []}))
    pages = [await portal.client.get("/kairos") for _ in range(2)]
    keys = [re.findall(r'name="idempotency_key" value="([^"]+)"', p.text) for p in pages]
    assert keys[0]
    assert keys[1]
    assert keys[0] != keys[1]


async def test_a_service_ending_the_session_shows_its_reason_on_the_sign_in_page(
    portal: Portal,
) -> None:
    await portal.sign_in("user")
    portal.services.on("declaration", "GET", f"{ORG}/sessions",
                       problem(401, "unauthenticated", "this account has lapsed"))  # fmt: skip
    portal.services.on("identity", "POST", "/v1/sessions/refresh",
                       problem(401, "session-ended", "session ended"))  # fmt: skip
    answer = await portal.client.get("/kairos")
    assert answer.status_code == 401
    assert "Le service a mis fin à votre session" in answer.text
    assert "this account has lapsed" in answer.text
    assert portal.sessions.rows == {}


async def test_requests_carry_the_persons_own_token(portal: Portal) -> None:
    await portal.sign_in("user")
    portal.services.on("declaration", "GET", f"{ORG}/sessions", Answer(200, {"sessions": []}))
    await portal.client.get("/kairos")
    ((request, token),) = portal.services.calls("declaration", "GET", f"{ORG}/sessions")
    assert isinstance(request, Request)
    (stored,) = portal.sessions.rows.values()
    assert token == stored.access_token


async def test_an_accepted_grid_shows_each_rows_deadline_on_its_row(portal: Portal) -> None:
    await portal.sign_in("user")
    _grid(portal, "1111111A", "2222222B")
    portal.services.on("declaration", "POST", f"{ORG}/attendance-statements/batch", Answer(201, {
        "accepted": 1, "rejected": 0,
        "rows": [{"row": 0, "status": "accepted", "declaration_id": "d-1", "late": True,
                  "due_by": "2027-02-05"}],
    }))  # fmt: skip
    url = "/kairos/sessions/AF1/SE1/presences"
    answer = await portal.client.post(url, data={
        "csrf_token": await portal.csrf(f"{url}?mois=2027-01"), "month": "2027-01",
        "rows-1-attended_hours": "70",
    })  # fmt: skip
    assert answer.status_code == 200
    assert "1 état(s) de présence enregistré(s)" in answer.text
    second_row = answer.text.split("2222222B", 1)[1].split("</tr>", 1)[0]
    assert "au plus tard le vendredi 5 février 2027" in second_row
    assert "en retard" in second_row
    assert "au plus tard" not in answer.text.split("2222222B", 1)[0].split("1111111A", 1)[1]


async def test_an_accepted_csv_file_says_how_many_rows_were_declared(portal: Portal) -> None:
    await portal.sign_in("user")
    portal.services.on("declaration", "POST", f"{ORG}/attendance-statements/batch",
                       Answer(201, {"accepted": 2, "rejected": 0, "rows": []}))  # fmt: skip
    _grid(portal)
    portal.services.on("declaration", "GET", f"{ORG}/sessions", Answer(200, {"sessions": []}))
    answer = await portal.client.post(
        "/kairos/sessions/AF1/SE1/presences/csv",
        data={"csrf_token": await portal.csrf("/kairos")},
        files={"fichier": ("p.csv", b"trainee_id,month\n1,2\n", "text/csv")},
    )
    assert "2 état(s) de présence enregistré(s)" in answer.text
    ((sent, _),) = portal.services.calls(
        "declaration", "POST", f"{ORG}/attendance-statements/batch"
    )
    assert sent.content_type == "text/csv"


@pytest.mark.parametrize(
    ("referrer", "retry"),
    [("http://testserver/kairos?page=2", "/kairos?page=2"),
     ("https://elsewhere.example/kairos", "/applications")],
)  # fmt: skip
async def test_a_refused_submission_is_retried_from_the_page_its_form_was_on(
    portal: Portal, referrer: str, retry: str
) -> None:
    await portal.sign_in("user")
    portal.services.on("declaration", "GET", f"{ORG}/sessions", Answer(200, {"sessions": []}))
    portal.services.on("declaration", "POST", f"{ORG}/sessions",
                       problem(503, "unavailable", "not yet", retry_after="3"))  # fmt: skip
    answer = await portal.client.post(
        "/kairos/sessions", data={"csrf_token": await portal.csrf("/kairos")},
        headers={"Referer": referrer},
    )  # fmt: skip
    assert answer.status_code == 503
    assert f'<a href="{retry}">Réessayer</a>' in answer.text


async def test_the_declarations_list_filters_and_pages_with_the_services_cursor(
    portal: Portal,
) -> None:
    await portal.sign_in("user")
    listed = {
        "declarations": [{
            "kind": "entry", "trainee_id": "1234567A", "declared_at": "2027-01-05T09:00:00+00:00",
            "due_by": "2027-01-07", "late": True,
            "session": {"action_number": "AF 1", "session_number": "SE1"},
        }],
        "next_cursor": "c/2",
    }  # fmt: skip
    portal.services.on("declaration", "GET", f"{ORG}/declarations", Answer(200, listed))
    page = await portal.client.get(
        "/kairos/declarations", params={"type": "entry", "stagiaire": "1234567A", "curseur": "c/1"}
    )
    assert page.status_code == 200
    ((request, _),) = portal.services.calls("declaration", "GET", f"{ORG}/declarations")
    assert request.params == {"limit": "50", "kind": "entry", "trainee_id": "1234567A",
                              "cursor": "c/1"}  # fmt: skip
    assert "Entrée en formation" in page.text
    assert "en retard" in page.text
    assert "/kairos/sessions/AF%201/SE1/stagiaires/1234567A" in page.text
    assert "curseur=c/2" in page.text


async def test_a_bad_trainee_filter_is_shown_on_its_field(portal: Portal) -> None:
    await portal.sign_in("user")
    portal.services.on("declaration", "GET", f"{ORG}/declarations", problem(
        422, "invalid-request", "bad id",
        errors=[{"field": "trainee_id", "message": "7 digits and one letter or digit"}],
    ))  # fmt: skip
    page = await portal.client.get("/kairos/declarations", params={"stagiaire": "12"})
    assert page.status_code == 422
    assert 'id="champ-stagiaire-erreur"' in page.text
    assert '<a href="#champ-stagiaire">Identifiant du stagiaire' in page.text
    assert "7 digits and one letter or digit" in page.text


async def test_the_cookie_notice_names_every_cookie_the_portal_sets(portal: Portal) -> None:
    set_by_portal = set()
    page = await portal.client.get("/connexion")
    set_by_portal |= {c.split("=", 1)[0] for c in page.headers.get_list("set-cookie")}
    await portal.sign_in()
    set_by_portal.add(SESSION_COOKIE)
    notice = await portal.client.get("/cookies")
    assert notice.status_code == 200
    for name in set_by_portal:
        assert f"<code>{name}</code>" in notice.text
    assert "30 minutes d'inactivité" in notice.text
