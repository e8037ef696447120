"""The OF's story through the portal, in a browser only (Playwright driving Debian's Chromium),
against a fresh ``make run`` stack: the RGC's first login, a trainer habilitated and handed
their credentials, the trainer's first login, a session, an entry, a month of attendance in the
grid, a CSV batch with one bad row shown on its row, an exit before the entry refused on its
field, the habilitation ended and the trainer's next submission refused; on the way, a month of
attendance corrected from its page and the lateness report. Sign-in and the correction are done
with the keyboard alone (Tab, typing, Enter), and after a refused submission the focus is on the
error summary (with JavaScript; without it the summary is the first thing in the main content).

Every page of the story is checked with axe-core (no serious or critical violation) and
photographed under ``.local/reports/portal/<theme>/``; the story runs once per theme (the
neutral portal of the stack, and a second portal process in the ``dsfr`` theme), and once more
with JavaScript switched off in the browser: every page works without it. Elements are found by
role and French label, as a person finds them.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import secrets
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from kairos_devstack.postgres import HOST, SUPERUSER
from kairos_devstack.processes import free_port, spawn, wait_until
from kairos_devstack.stack import StackPorts, clock_offset_file
from kairos_devstack.stack_process import fresh_stack
from kairos_devstack.story_clients import PARIS, Endpoints, Operator, expect, open_hours_ahead
from kairos_devstack.testing import valid_siret

playwright = pytest.importorskip("playwright.sync_api")
pytestmark = [pytest.mark.slow, pytest.mark.infra]  # runs its own stack

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
AXE = ROOT / "services/portal/node_modules/axe-core/axe.min.js"
REPORTS = ROOT / ".local/reports/portal"
PASSWORD_RGC = "Le chat de la voisine dort sur le toit rouge"
PASSWORD_TRAINER = "Une formatrice range ses classeurs bleus le soir"


@dataclass(frozen=True)
class Portals:
    urls: dict[str, str]
    endpoints: Endpoints


def _dsfr_portal(root: Path, ports: StackPorts) -> Iterator[str]:
    port = free_port()
    env = {
        "KAIROS_PORTAL_THEME": "dsfr", "KAIROS_PORTAL_DEVELOPMENT": "true",
        "KAIROS_PORTAL_HTTP_PORT": str(port),
        "KAIROS_PORTAL_DATABASE_URL": f"postgresql://{SUPERUSER}@{HOST}:{ports.postgres}/portal",
        "KAIROS_CLOCK_OFFSET_FILE": str(clock_offset_file(root)),
        **{f"KAIROS_PORTAL_{name.upper()}_URL": f"http://127.0.0.1:{p}"
           for name, p in ports.services.items()},
    }  # fmt: skip
    process = spawn("portal-dsfr", [sys.executable, "-m", "kairos_portal"],
                    log_path=root / "logs" / "portal-dsfr.log", env=env)  # fmt: skip
    try:
        url = f"http://127.0.0.1:{port}"

        def ready() -> bool:
            try:
                return httpx.get(f"{url}/health/ready", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        wait_until(ready, process=process, timeout=60, what="ready")
        yield url
    finally:
        process.stop()


def _portals(root: Path, ports: StackPorts) -> Iterator[Portals]:
    endpoints = Endpoints.of_local_stack(root, ports)
    for dsfr in _dsfr_portal(root, ports):
        yield Portals({"neutral": f"http://127.0.0.1:{ports.portal}", "dsfr": dsfr}, endpoints)


@pytest.fixture(scope="module")
def portals() -> Iterator[Portals]:
    """A fresh stack; or, for working on the portal, the one already running in the state
    folder ``KAIROS_PORTAL_TEST_STACK`` names (its ports from the usual variables)."""
    if not CHROMIUM.exists():
        pytest.skip("Debian's Chromium is missing: `make install` as root installs it")
    running = os.environ.get("KAIROS_PORTAL_TEST_STACK")
    if running:
        yield from _portals(Path(running), StackPorts())
        return
    with fresh_stack("kairos-test-portal-") as stack:
        yield from _portals(stack.root, stack.ports)


@pytest.fixture(scope="module")
def browser(portals: Portals) -> Iterator[Any]:
    with playwright.sync_playwright() as driver:
        launched = driver.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield launched
        launched.close()


@dataclass(frozen=True)
class Organisation:
    organisation_id: str
    rgc_login_id: str
    rgc_provisional_password: str


async def _onboard(endpoints: Endpoints) -> Organisation:
    """An OF whose adhesion an operator validated (over the services' API, as in the demo): the
    RGC's provisional credentials, which the operator hands over."""
    run = secrets.token_hex(3)
    async with httpx.AsyncClient(base_url=endpoints.identity, timeout=30) as identity:
        operator = Operator(identity, endpoints)
        await operator.bootstrap(run)
        body = {
            "siret": valid_siret(int(run, 16)), "nda": "84690000069",
            "legal_name": f"Organisme du portail {run}",
            "address": {"street": "1 place Bellecour", "postal_code": "69002", "city": "Lyon"},
            "head": {"first_name": "Inès", "last_name": "Roux", "function": "Directrice",
                     "email": f"ines.roux.{run}@of.example"},
            "rgc": {"first_name": "Paul", "last_name": "Garnier",
                    "email": f"paul.garnier.{run}@of.example"},
            "terms": {"version": "2017-09-15", "accepted_on": "2026-01-05"},
        }  # fmt: skip
        organisation = expect(await identity.post("/v1/organisations", json=body), 201)
        organisation_id = str(organisation["organisation_id"])
        rgc = await operator.post(f"/v1/organisations/{organisation_id}/validation", 201)
    return Organisation(organisation_id, rgc["login_id"], rgc["provisional_password"])


class Visit:
    """One person's browser tab: every page it lands on is checked (axe) and photographed."""

    def __init__(
        self, browser: Any, base: str, theme: str, who: str, *, javascript: bool = True
    ) -> None:
        # bypass_csp: axe is injected as an inline script, which the portal's CSP forbids.
        self.context = browser.new_context(
            locale="fr-FR", base_url=base, bypass_csp=True, java_script_enabled=javascript
        )
        self.javascript = javascript
        self.page = self.context.new_page()
        self.page.set_default_timeout(30_000)
        self.theme = theme
        self.who = who
        self.shots = 0

    def check(self, name: str) -> None:
        """axe on the page (pages are checked with JavaScript on; without it, the story only
        proves every page works), and its screenshot."""
        page = self.page
        page.wait_for_load_state("load")
        if not self.javascript:
            folder = REPORTS / f"{self.theme}-sans-javascript"
            folder.mkdir(parents=True, exist_ok=True)
            self.shots += 1
            page.screenshot(path=str(folder / f"{self.who}-{self.shots:02d}-{name}.png"),
                            full_page=True)  # fmt: skip
            return
        page.add_script_tag(path=str(AXE))
        result = page.evaluate(
            "() => axe.run(document, {runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']})"
        )
        grave = [
            (v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
            for v in result["violations"] if v["impact"] in ("serious", "critical")
        ]  # fmt: skip
        folder = REPORTS / self.theme
        folder.mkdir(parents=True, exist_ok=True)
        self.shots += 1
        page.screenshot(path=str(folder / f"{self.who}-{self.shots:02d}-{name}.png"),
                        full_page=True)  # fmt: skip
        assert not grave, f"{self.theme} {name}: {grave}"

    def close(self) -> None:
        self.context.close()


_FOCUSED_LABEL = """() => {
  const e = document.activeElement;
  return e && e.labels && e.labels.length ? e.labels[0].innerText.trim() : "";
}"""


def _tab_to(visit: Visit, label: str, most: int = 60) -> None:
    """Tab (the keyboard alone) until the field labelled ``label`` has the focus: it is
    reachable in the page's order."""
    for _ in range(most):
        visit.page.keyboard.press("Tab")
        if visit.page.evaluate(_FOCUSED_LABEL).split("\n")[0] == label:
            return
    raise AssertionError(f"{label!r} not reached with {most} presses of Tab")


def _type_into(visit: Visit, label: str, value: str) -> None:
    _tab_to(visit, label)
    visit.page.keyboard.type(value)


def _sign_in(visit: Visit, login_id: str, password: str) -> None:
    """With the keyboard alone: Tab to each field, type, Enter submits."""
    page = visit.page
    page.goto("/connexion")
    visit.check("connexion")
    _type_into(visit, "Identifiant", login_id)
    _type_into(visit, "Mot de passe", password)
    page.keyboard.press("Enter")


def _first_login(visit: Visit, login_id: str, provisional: str, password: str) -> None:
    _sign_in(visit, login_id, provisional)
    page = visit.page
    page.wait_for_url("**/mot-de-passe")
    visit.check("premiere-connexion")
    page.get_by_label("Mot de passe provisoire").fill(provisional)
    page.get_by_label("Nouveau mot de passe", exact=True).fill(password)
    page.get_by_label("Confirmation du nouveau mot de passe").fill(password)
    page.get_by_role("button", name="Enregistrer le mot de passe").click()
    page.wait_for_url("**/applications**")
    assert page.get_by_role("heading", name="Mes applications").is_visible()
    visit.check("mes-applications")


def _until(
    visit: Visit, ready: Any, what: str, timeout: float = 90.0, *, reload: bool = True
) -> None:
    """Try ``ready()`` until it holds (reloading the page in between unless it navigates
    itself): events travel between services through Kafka."""
    deadline = time.monotonic() + timeout
    while not ready():
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout:.0f} s for {what}")
        visit.page.wait_for_timeout(500)
        if reload:
            visit.page.reload()


def _habilitate_trainer(rgc: Visit, run: str) -> tuple[str, str]:
    page = rgc.page
    page.get_by_role("link", name="COADHA — Habilitations").click()
    rgc.check("habilitations")
    page.get_by_role("link", name="Enregistrer une habilitation").click()
    rgc.check("nouvelle-habilitation")
    page.get_by_label("Prénom").fill("Fanny")
    page.get_by_label("Nom", exact=True).fill("Martin")
    page.get_by_label("Adresse électronique").fill(f"fanny.martin.{run}@of.example")
    page.get_by_label("Fonction").fill("formatrice")
    page.get_by_label("Rôle").select_option("user")
    page.get_by_label("Signataire de l'autorisation").fill("Inès Roux")
    page.get_by_label("Date de signature").fill("2026-01-05")
    document = f"Autorisation signée par la direction pour Fanny Martin {run}".encode()
    page.get_by_label("Autorisation signée (document)").set_input_files(
        files=[{"name": "autorisation.pdf", "mimeType": "application/pdf", "buffer": document}]
    )
    # force: the DSFR draws its own box over the input (a click on it lands on the label)
    page.get_by_label("J'atteste que cette personne est salariée de l'organisme").check(force=True)
    page.get_by_role("button", name="Enregistrer l'habilitation").click()
    page.wait_for_url(re.compile(r".*/coadha/habilitations/[0-9a-f-]+\?info=enregistree"))
    assert hashlib.sha256(document).hexdigest() in page.content()  # computed by the server
    rgc.check("habilitation")
    hand_over = page.get_by_role("button", name="Afficher les identifiants à remettre")
    _until(rgc, hand_over.is_visible, "the trainer's account to open")
    with page.expect_response(lambda r: r.url.endswith("/identifiants")) as shown:
        hand_over.click()
    assert shown.value.headers["cache-control"] == "no-store"
    rgc.check("identifiants")
    values = page.locator("dl.identifiants dd").all_inner_texts()
    page.goto("/coadha/habilitations")
    page.get_by_role("rowheader", name="Fanny Martin").wait_for()
    rgc.check("liste-des-habilitations")
    return values[0].strip(), values[1].strip()


def _months(today: date) -> tuple[date, date]:
    """The first days of the month before last (the entry) and of last month (the grid)."""
    last = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    before = (last - timedelta(days=1)).replace(day=1)
    return before, last


def _declare(trainer: Visit, run: str, today: date) -> tuple[str, str]:
    page = trainer.page
    entry_month, grid_month = _months(today)
    action, number = f"84_AF_{run}", f"84_SE_{run}"
    trainee = f"{int(run, 16) % 10**7:07d}A"
    page.get_by_role("link", name="Kairos — Déclarations").click()
    trainer.check("declarations")

    def register() -> bool:
        page.goto("/kairos")
        page.get_by_label("Numéro d'action").fill(action)
        page.get_by_label("Numéro de session").fill(number)
        page.get_by_label("Date de début").fill(entry_month.isoformat())
        page.get_by_label("Date de fin").fill((entry_month + timedelta(days=200)).isoformat())
        page.get_by_label("Heures par semaine").fill("35")
        page.get_by_role("button", name="Enregistrer la session").click()
        page.wait_for_load_state("load")
        return "/kairos/sessions/" in page.url

    _until(trainer, register, "the declaration service to know the trainer", reload=False)
    trainer.check("session")
    page.get_by_label("Identifiant France Travail du stagiaire").fill(trainee)
    page.get_by_label("Date d'entrée").fill(entry_month.isoformat())
    page.get_by_role("button", name="Déclarer l'entrée").click()
    page.wait_for_url("**declaree=**")
    assert page.get_by_role("link", name=trainee).is_visible()
    trainer.check("entree-declaree")

    page.get_by_label("Mois (AAAA-MM)").fill(f"{grid_month:%Y-%m}")
    page.get_by_role("button", name="Ouvrir la grille de présence").click()
    trainer.check("grille")
    hours = page.get_by_label(f"Heures suivies — {trainee}")
    hours.fill("800")  # more than any month has: refused on its row
    page.get_by_role("button", name="Déclarer les présences").click()
    assert page.get_by_role("alert").first.is_visible()
    assert "Ligne 1, colonne « heures suivies »" in page.get_by_role("alert").first.inner_text()
    assert hours.get_attribute("aria-invalid") == "true"
    trainer.check("grille-ligne-refusee")
    page.get_by_label(f"Heures suivies — {trainee}").fill("70")
    page.get_by_label(f"Absences justifiées (h) — {trainee}").fill("3,5")
    page.get_by_role("button", name="Déclarer les présences").click()
    page.get_by_text("1 état(s) de présence enregistré(s)").wait_for()
    assert "au plus tard le" in page.get_by_role("row", name=re.compile(trainee)).inner_text()
    trainer.check("grille-enregistree")

    csv = (
        "trainee_id,action_number,session_number,month,attended_hours\n"
        f"{trainee},{action},{number},{entry_month:%Y-%m},60\n"
        f"{trainee},{action},{number},{entry_month:%Y}-13,60\n"
    )
    page.get_by_role("link", name="Revenir à la session").click()
    page.get_by_label("Fichier CSV des présences").set_input_files(
        files=[{"name": "presences.csv", "mimeType": "text/csv", "buffer": csv.encode()}]
    )
    page.get_by_role("button", name="Envoyer le fichier").click()
    summary = page.get_by_role("alert").first.inner_text()
    assert "Ligne 2, colonne « mois »" in summary, summary
    bad_row = page.locator("tr.ligne-erreur")
    assert bad_row.count() == 1
    assert bad_row.get_by_role("rowheader").inner_text().strip() == "2"
    trainer.check("csv-ligne-refusee")
    return trainee, f"/kairos/sessions/{action}/{number}"


def _declarations_list(trainer: Visit, trainee: str) -> None:
    page = trainer.page
    page.goto("/kairos")
    page.get_by_role("link", name="Toutes les déclarations de l'organisme").click()
    page.get_by_label("Identifiant du stagiaire").fill(trainee)
    page.get_by_role("button", name="Filtrer").click()
    kinds = page.get_by_role("rowheader").all_inner_texts()
    assert kinds == ["Entrée en formation", "État de présence mensuel"], kinds
    trainer.check("toutes-les-declarations")


def _correct_and_cancel(trainer: Visit) -> None:
    """The month of attendance corrected from its page, with the keyboard alone: sent first
    without its reason (refused; with JavaScript the focus moves to the error summary), then
    with it. The lateness report after."""
    page = trainer.page
    page.get_by_role("link", name="État de présence mensuel").click()
    page.get_by_role("heading", name="Corriger").wait_for()
    trainer.check("declaration")
    _tab_to(trainer, "Heures suivies")
    page.keyboard.press("Control+A")
    page.keyboard.type("72")
    with page.expect_navigation():
        page.keyboard.press("Enter")  # no reason given: refused by the service
    reason = page.get_by_label("Motif de la correction")
    assert reason.get_attribute("aria-invalid") == "true"
    if trainer.javascript:
        focused = page.evaluate("() => document.activeElement.getAttribute('aria-labelledby')")
        assert focused == "resume-erreurs", f"the focus is on {focused!r}, not the summary"
    trainer.check("correction-refusee")
    _type_into(trainer, "Motif de la correction", "une journée oubliée")
    page.keyboard.press("Enter")
    page.get_by_text("Correction enregistrée").wait_for()
    assert page.get_by_role("rowheader", name="2").is_visible()
    assert "correction : une journée oubliée" in page.get_by_role("main").inner_text()
    trainer.check("correction-enregistree")
    page.goto("/kairos")
    page.get_by_role("link", name="Retards de déclaration").click()
    page.get_by_role("rowheader", name="État de présence mensuel").wait_for()
    trainer.check("retards")


def _exit_before_entry(trainer: Visit, trainee: str, session_url: str, today: date) -> None:
    page = trainer.page
    entry_month, _ = _months(today)
    page.goto(f"{session_url}/stagiaires/{trainee}")
    trainer.check("stagiaire")
    assert page.get_by_role("cell", name=re.compile("entrée le")).count() == 1
    page.get_by_label("Date de sortie").fill((entry_month - timedelta(days=1)).isoformat())
    page.get_by_label("Nature de la sortie").select_option("abandonment")
    page.get_by_label("Motif").select_option("employment")
    page.get_by_role("button", name="Déclarer la sortie").click()
    field = page.get_by_label("Date de sortie")
    assert field.get_attribute("aria-invalid") == "true"
    message = page.locator(f"#{field.get_attribute('id')}-erreur").inner_text()
    assert "before the entry" in message, message
    trainer.check("sortie-refusee")


def _end_habilitation(rgc: Visit) -> None:
    page = rgc.page
    page.get_by_role("link", name="Fanny Martin").click()  # from the list
    page.get_by_label("Motif de fin").select_option("departure")
    page.get_by_role("button", name="Mettre fin à l'habilitation").click()
    page.wait_for_url("**info=terminee")
    assert "terminée" in page.get_by_role("main").inner_text()
    rgc.check("habilitation-terminee")
    page.get_by_role("button", name="Se déconnecter").click()
    page.get_by_text("Vous êtes déconnecté").wait_for()
    page.goto("/applications")  # the session is gone: back to the sign-in page
    assert page.get_by_role("heading", name="Connexion à Kairos").is_visible()
    rgc.check("deconnexion")


def _refused_after_ending(trainer: Visit, trainee: str, session_url: str, today: date) -> str:
    """The trainer's next exit declaration: refused by the declaration service (not
    habilitated), or the session ended by the identity service with its reason."""
    page = trainer.page
    trainee_page = f"{session_url}/stagiaires/{trainee}"
    ended = page.get_by_text("Le service a mis fin à votre session")

    def refused() -> bool:
        page.goto(trainee_page)
        if ended.count():
            return True
        page.get_by_label("Date de sortie").fill(today.isoformat())
        page.get_by_label("Nature de la sortie").select_option("abandonment")
        page.get_by_label("Motif").select_option("employment")
        page.get_by_role("button", name="Déclarer la sortie").click()
        page.wait_for_load_state("load")
        return bool(ended.count() or page.get_by_role("alert").count())

    _until(trainer, refused, "the trainer's submission to be refused", reload=False)
    trainer.check("refus-apres-fin")
    said: str = page.get_by_role("main").inner_text()
    return said


@pytest.mark.parametrize(
    ("theme", "javascript"),
    [("neutral", True), ("dsfr", True), ("neutral", False)],
    ids=["neutral", "dsfr", "neutral-without-javascript"],
)
def test_the_of_story_in_the_browser(
    portals: Portals, browser: Any, theme: str, javascript: bool
) -> None:
    now = open_hours_ahead(portals.endpoints.clock_offset_file)
    today = now.astimezone(PARIS).date()
    with ThreadPoolExecutor(1) as thread:  # Playwright's sync API holds this thread's loop
        organisation = thread.submit(asyncio.run, _onboard(portals.endpoints)).result()
    run = secrets.token_hex(3)
    rgc = Visit(browser, portals.urls[theme], theme, "rgc", javascript=javascript)
    trainer = Visit(browser, portals.urls[theme], theme, "formatrice", javascript=javascript)
    try:
        rgc.page.goto("/connexion")
        rgc.page.get_by_role("link", name="Cookies et données de navigation").click()
        rgc.check("cookies")
        rgc.page.get_by_role("link", name="Accessibilité : non conforme").click()
        rgc.check("accessibilite")
        _first_login(rgc, organisation.rgc_login_id, organisation.rgc_provisional_password,
                     PASSWORD_RGC)  # fmt: skip
        login_id, provisional = _habilitate_trainer(rgc, run)
        _first_login(trainer, login_id, provisional, PASSWORD_TRAINER)
        trainee, session_url = _declare(trainer, run, today)
        _declarations_list(trainer, trainee)
        _correct_and_cancel(trainer)
        _exit_before_entry(trainer, trainee, session_url, today)
        _end_habilitation(rgc)
        said = _refused_after_ending(trainer, trainee, session_url, today)
        assert ("habilité" in said) or ("Le service a mis fin à votre session" in said), said
    finally:
        rgc.close()
        trainer.close()
