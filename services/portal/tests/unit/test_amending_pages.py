"""One declaration's page (every version, correction and cancellation with their reason) and
the lateness report, against fakes of the services."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from kairos_portal.bootstrap import create_app
from kairos_portal.config import PortalSettings
from kairos_portal.entrypoints.pages_home import PAGES_CHECKED
from kairos_portal.service_layer.ports import Answer, Request, ServiceRefused
from kairos_portal.testing import ORGANISATION, FakeServices, MemorySessions, problem, tokens
from kairos_shared.clock import ManualClock

ORG = f"/v1/organisations/{ORGANISATION}"
ID = "0b7e5c4e-1111-4000-8000-00000000000a"
SESSION = {"action_number": "A1", "session_number": "S1"}


def _version(version: int = 1, **changes: object) -> dict[str, object]:
    return {
        "kind": "attendance",
        "cancelled": False,
        "declaration_id": ID,
        "version": version,
        "session": SESSION,
        "trainee_id": "1234567A",
        "month": "2026-12",
        "attended_hours": 120,
        "justified_absence_hours": 0,
        "unjustified_absence_hours": 4,
        "declared_at": "2027-01-05T09:00:00+00:00",
        "due_by": "2027-01-15",
        "late": False,
        "correction_reason": None,
        **changes,
    }


@dataclass
class Portal:
    client: httpx.AsyncClient
    services: FakeServices

    async def form(self, path: str) -> tuple[str, list[str]]:
        page = await self.client.get(path)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert token, f"no CSRF token on {path}"
        keys = re.findall(r'name="idempotency_key" value="([^"]+)"', page.text)
        return token[1], keys


@pytest.fixture
async def portal() -> AsyncIterator[Portal]:
    services, sessions = FakeServices(), MemorySessions()
    clock = ManualClock(datetime(2027, 1, 12, 9, 0, tzinfo=UTC))
    app = create_app(PortalSettings(development=True), api=services, sessions=sessions, clock=clock)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        running = Portal(client, services)
        services.on("identity", "POST", "/v1/sessions", tokens("user"))
        token, _ = await running.form("/connexion")
        signed = await client.post(
            "/connexion", data={"login_id": "u", "password": "p", "csrf_token": token}
        )
        assert signed.status_code == 303
        yield running


def _history(*versions: dict[str, object]) -> Answer:
    return Answer(200, {"declaration_id": ID, "versions": list(versions)})


async def test_the_page_shows_every_version_and_a_correction_form_filled_with_the_last(
    portal: Portal,
) -> None:
    portal.services.on(
        "declaration",
        "GET",
        f"/v1/declarations/{ID}",
        _history(
            _version(),
            _version(
                2,
                attended_hours=124,
                unjustified_absence_hours=4.0,
                correction_reason="oubli d'une journée",
            ),
        ),
    )

    page = await portal.client.get(f"/kairos/declarations/{ID}")

    assert page.status_code == 200
    assert "État de présence mensuel — stagiaire 1234567A" in page.text
    assert "Versions, la plus ancienne d&#39;abord (2)" in page.text
    assert "correction : oubli d&#39;une journée" in page.text
    assert re.search(r'name="attended_hours"[^>]*value="124"', page.text)
    assert re.search(r'name="unjustified_absence_hours"[^>]*value="4"', page.text)
    assert re.search(r'name="justified_absence_hours"[^>]*value="0"', page.text), "0 is shown"
    assert 'action="/kairos/declarations/' + ID + '/annulation"' in page.text


async def test_a_correction_restates_the_declaration_whole_with_its_reason(
    portal: Portal,
) -> None:
    portal.services.on("declaration", "GET", f"/v1/declarations/{ID}", _history(_version()))
    portal.services.on(
        "declaration",
        "POST",
        f"/v1/declarations/{ID}/corrections",
        Answer(201, {"declaration_id": ID, "version": 2}),
    )
    token, keys = await portal.form(f"/kairos/declarations/{ID}")

    answer = await portal.client.post(
        f"/kairos/declarations/{ID}/correction",
        data={
            "csrf_token": token,
            "idempotency_key": keys[0],
            "attended_hours": "124",
            "justified_absence_hours": "3,5",
            "unjustified_absence_hours": "0",
            "correction_reason": "oubli d'une journée",
        },
    )

    assert (answer.status_code, answer.headers["location"]) == (
        303,
        f"/kairos/declarations/{ID}?fait=correction",
    )
    [(sent, _)] = portal.services.calls("declaration", "POST", f"/v1/declarations/{ID}/corrections")
    assert sent.json == {
        "session": SESSION,
        "trainee_id": "1234567A",
        "month": "2026-12",
        "attended_hours": 124.0,
        "justified_absence_hours": 3.5,
        "unjustified_absence_hours": 0.0,
        "correction_reason": "oubli d'une journée",
    }
    assert sent.idempotency_key == keys[0]
    assert len(set(keys)) == 2, "the correction and the cancellation forms need their own keys"


async def test_a_refused_correction_shows_the_services_reasons_in_french_on_their_fields(
    portal: Portal,
) -> None:
    portal.services.on("declaration", "GET", f"/v1/declarations/{ID}", _history(_version()))
    portal.services.on(
        "declaration",
        "POST",
        f"/v1/declarations/{ID}/corrections",
        problem(
            422,
            "invalid-request",
            "bad",
            errors=[
                {
                    "field": "body.attended_hours",
                    "message": "Input should be less than or equal to 744",
                },
                {"field": "correction_reason", "message": "a correction needs its reason"},
            ],
        ),
    )
    token, keys = await portal.form(f"/kairos/declarations/{ID}")

    page = await portal.client.post(
        f"/kairos/declarations/{ID}/correction",
        data={"csrf_token": token, "idempotency_key": keys[0], "attended_hours": "900"},
    )

    assert page.status_code == 422
    assert 'id="champ-attended-hours-erreur"' in page.text
    assert "Heures suivies : La valeur doit être inférieure ou égale à 744." in page.text
    assert 'href="#champ-correction-reason"' in page.text
    assert re.search(r'name="attended_hours"[^>]*value="900"', page.text), "what was typed stays"


async def test_a_cancellation_sends_its_reason_and_a_refusal_lands_on_its_field(
    portal: Portal,
) -> None:
    portal.services.on("declaration", "GET", f"/v1/declarations/{ID}", _history(_version()))
    path = f"/v1/declarations/{ID}/cancellation"
    portal.services.on(
        "declaration",
        "POST",
        path,
        problem(
            422,
            "invalid-request",
            "bad",
            errors=[{"field": "body.reason", "message": "String should have at least 1 character"}],
        ),
    )
    token, keys = await portal.form(f"/kairos/declarations/{ID}")

    page = await portal.client.post(
        f"/kairos/declarations/{ID}/annulation",
        data={"csrf_token": token, "idempotency_key": keys[1], "cancel_reason": ""},
    )
    assert page.status_code == 422
    assert "Motif de l&#39;annulation : Saisissez au moins 1 caractère(s)." in page.text
    assert 'id="champ-cancel-reason-erreur"' in page.text

    portal.services.on("declaration", "POST", path, Answer(201, {"version": 2}))
    done = await portal.client.post(
        f"/kairos/declarations/{ID}/annulation",
        data={"csrf_token": token, "idempotency_key": keys[1], "cancel_reason": "doublon"},
    )
    assert done.headers["location"] == f"/kairos/declarations/{ID}?fait=annulation"
    sent = portal.services.calls("declaration", "POST", path)[-1][0]
    assert (sent.json, sent.idempotency_key) == ({"reason": "doublon"}, keys[1])


async def test_a_cancelled_declaration_offers_neither_correction_nor_cancellation(
    portal: Portal,
) -> None:
    portal.services.on(
        "declaration",
        "GET",
        f"/v1/declarations/{ID}",
        _history(_version(), _version(2, cancelled=True)),
    )
    page = await portal.client.get(f"/kairos/declarations/{ID}")
    assert "Cette déclaration est annulée." in page.text
    assert "/correction" not in page.text
    assert "/annulation" not in page.text


async def test_the_lateness_report_asks_this_year_by_default_and_shows_the_late_share(
    portal: Portal,
) -> None:
    portal.services.on(
        "declaration",
        "GET",
        f"{ORG}/lateness",
        Answer(
            200,
            {
                "kinds": [
                    {"kind": "entry", "declared": 8, "late": 2},
                    {"kind": "exit", "declared": 0, "late": 0},
                ]
            },
        ),
    )

    page = await portal.client.get("/kairos/retards")

    [(sent, _)] = portal.services.calls("declaration", "GET", f"{ORG}/lateness")
    assert sent.params == {"since": "2027-01-01", "until": "2027-01-13"}
    assert re.search(r"Entrée en formation</th><td>8</td><td>2</td>\s*<td>25,0 %", page.text)


async def test_a_bad_period_is_shown_on_its_field(portal: Portal) -> None:
    refused: ServiceRefused = problem(
        422,
        "invalid-request",
        "bad",
        errors=[{"field": "query.since", "message": "Input should be a valid date or datetime, x"}],
    )
    portal.services.on("declaration", "GET", f"{ORG}/lateness", refused)

    page = await portal.client.get("/kairos/retards?since=2027-02-30")

    assert page.status_code == 422
    assert "Du : Saisissez une date valide (jj/mm/aaaa)." in page.text
    assert 'href="#champ-since"' in page.text


async def test_the_accessibility_statement_says_what_was_checked_and_claims_no_rate(
    portal: Portal,
) -> None:
    page = await portal.client.get("/accessibilite")

    assert page.status_code == 200
    assert "Aucun audit complet du RGAA n'a été réalisé" in page.text
    assert "axe : color-contrast" in page.text
    assert "%" not in page.text.split("<main", 1)[1].split("zoom", 1)[0], "no conformity rate"
    home = await portal.client.get("/cookies")
    assert 'href="/accessibilite">Accessibilité : non conforme</a>' in home.text


async def test_the_cookie_notice_says_no_navigation_statistics_are_kept(portal: Portal) -> None:
    page = await portal.client.get("/cookies")
    assert "dix ans" in page.text
    assert "n'en collecte aucune" in page.text


def test_the_statement_counts_the_screens_the_browser_story_checks() -> None:
    story = Path(__file__).resolve().parents[4] / "tests" / "test_portal_browser.py"
    screens = set(re.findall(r'\.check\("([a-z-]+)"\)', story.read_text(encoding="utf-8")))
    assert len(screens) == PAGES_CHECKED


async def test_the_grid_shows_every_entry_of_the_session_page_after_page(portal: Portal) -> None:
    """A session of 250 trainees: the service answers 100 at a time, the grid has 250 rows."""

    def entries(request: Request, _token: str | None) -> Answer:
        start = int(request.params.get("cursor", "0"))
        page = [
            {"trainee_id": f"{n:07d}A", "entered_on": "2026-11-02"}
            for n in range(start, min(start + 100, 250))
        ]
        after = start + 100
        return Answer(
            200, {"declarations": page, "next_cursor": str(after) if after < 250 else None}
        )

    portal.services.on("declaration", "GET", f"{ORG}/declarations", entries)

    page = await portal.client.get("/kairos/sessions/A1/S1/presences?mois=2026-12")

    assert page.status_code == 200
    assert page.text.count('name="rows-') == 250 * 3
    sent = portal.services.calls("declaration", "GET", f"{ORG}/declarations")
    assert [r.params.get("cursor") for r, _ in sent] == [None, "100", "200"]


def _session_page_services(portal: Portal) -> None:
    portal.services.on("declaration", "GET", f"{ORG}/sessions", Answer(200, {"sessions": []}))
    portal.services.on(
        "declaration",
        "GET",
        f"{ORG}/declarations",
        Answer(200, {"declarations": [], "next_cursor": None}),
    )


async def test_an_interruption_of_the_session_is_declared_with_its_dates_and_reason(
    portal: Portal,
) -> None:
    _session_page_services(portal)
    portal.services.on(
        "declaration", "POST", f"{ORG}/interruptions", Answer(201, {"declaration_id": ID})
    )
    token, keys = await portal.form("/kairos/sessions/A1/S1")

    answer = await portal.client.post(
        "/kairos/sessions/A1/S1/interruptions",
        data={
            "csrf_token": token,
            "idempotency_key": keys[0],
            "starts_on": "2027-01-04",
            "ends_on": "2027-01-08",
            "reason": "fermeture des locaux",
        },
    )

    assert answer.headers["location"] == f"/kairos/sessions/A1/S1?declaree={ID}"
    [(sent, _)] = portal.services.calls("declaration", "POST", f"{ORG}/interruptions")
    assert sent.json == {
        "session": SESSION,
        "starts_on": "2027-01-04",
        "ends_on": "2027-01-08",
        "reason": "fermeture des locaux",
    }


async def test_a_refused_interruption_shows_the_reason_on_its_field(portal: Portal) -> None:
    _session_page_services(portal)
    portal.services.on(
        "declaration",
        "POST",
        f"{ORG}/interruptions",
        problem(
            422,
            "invalid-request",
            "bad",
            errors=[
                {
                    "field": "body.ends_on",
                    "message": "Input should be a valid date or datetime, input is too short",
                }
            ],
        ),
    )
    token, keys = await portal.form("/kairos/sessions/A1/S1")

    page = await portal.client.post(
        "/kairos/sessions/A1/S1/interruptions",
        data={
            "csrf_token": token,
            "idempotency_key": keys[0],
            "starts_on": "2027-01-04",
            "ends_on": "",
            "reason": "fermeture",
        },
    )

    assert page.status_code == 422
    assert "Fin de l&#39;interruption : Saisissez une date valide (jj/mm/aaaa)." in page.text
    assert 'id="champ-ends-on-erreur"' in page.text
    assert re.search(r'name="reason"[^>]*value="fermeture"', page.text)
