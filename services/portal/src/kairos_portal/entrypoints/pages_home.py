"""« Mes applications »: what the person may open and the organisation's access status."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from kairos_portal.entrypoints.pages_sign_in import NOTICES
from kairos_portal.entrypoints.security import PRE_SESSION_COOKIE, SESSION_COOKIE
from kairos_portal.entrypoints.web import call, render, see_other, signed_in, web_of
from kairos_portal.service_layer.ports import Request as ServiceRequest

router = APIRouter()


@router.get("/applications")
async def applications(request: Request) -> Response:
    session = await signed_in(request)
    person = session.person
    if person.password_change_only:
        return see_other("/mot-de-passe")
    organisation = None
    if person.organisation_id:
        organisation = await call(
            request, session, "identity",
            ServiceRequest("GET", f"/v1/organisations/{person.organisation_id}"),
        )  # fmt: skip
    info = NOTICES.get(request.query_params.get("info", ""))
    page: HTMLResponse = render(
        request, "pages/applications.html", {"organisation": organisation, "info": info},
        session=session,
    )  # fmt: skip
    return page


@router.get("/cookies")
async def cookies(request: Request) -> HTMLResponse:
    """The cookie notice (CGU §6, SPEC K25): only strictly necessary cookies, no consent wall."""
    idle = web_of(request).portal.idle_timeout
    return render(
        request, "pages/cookies.html",
        {"session_cookie": SESSION_COOKIE, "form_cookie": PRE_SESSION_COOKIE,
         "idle_minutes": int(idle.total_seconds() // 60)},
    )  # fmt: skip


PAGES_CHECKED = 27
"""The screens the browser story checks with axe in each theme (tests/test_portal_browser.py
counts them: keep equal)."""
RGAA_CHECKED = (
    ("1.1 — images porteuses d'information : alternative textuelle",
     "axe : image-alt, input-image-alt, role-img-alt, svg-img-alt"),
    ("3.2 — contraste du texte", "axe : color-contrast"),
    ("5.6, 5.7 — tableaux de données : en-têtes et cellules associées",
     "axe : th-has-data-cells, td-headers-attr, td-has-header"),
    ("6.2 — chaque lien a un intitulé", "axe : link-name"),
    ("7.1 — composants compatibles avec les technologies d'assistance",
     "axe : aria-allowed-attr, aria-required-attr, aria-valid-attr, aria-valid-attr-value, "
     "aria-roles"),
    ("7.3 — contrôlable au clavier",
     "clavier seul : connexion et correction d'une déclaration (tabulation, saisie, Entrée)"),
    ("8.3, 8.4 — langue par défaut présente et pertinente", "axe : html-has-lang, html-lang-valid"),
    ("8.5 — titre de page", "axe : document-title"),
    ("11.1 — chaque champ a une étiquette", "axe : label, select-name ; le test trouve chaque "
     "champ par son étiquette en français"),
    ("11.9 — intitulé des boutons", "axe : button-name"),
    ("11.10 — contrôle de saisie : erreurs signalées et associées au champ",
     "test navigateur et tests unitaires : message à côté du champ (aria-invalid, "
     "aria-describedby), résumé en tête du formulaire, focus sur le résumé"),
    ("11.13 — finalité des champs (autocomplete)", "axe : autocomplete-valid"),
    ("12.7 — lien d'évitement vers le contenu", "axe : bypass ; lien « Aller au contenu » en tête"),
    ("12.8 — ordre de tabulation cohérent", "clavier seul : chaque champ atteint dans l'ordre"),
    ("12.9 — pas de piège au clavier", "clavier seul : le parcours va jusqu'à l'envoi"),
)  # fmt: skip
RGAA_NOT_CHECKED = (
    "La structure des titres (critère 9.1), la visibilité du focus (10.7), l'adaptation à un zoom "
    "de 200 % (10.4) et la restitution par un lecteur d'écran n'ont pas été contrôlées.",
    "Les pages du portail que le parcours ne visite pas (par exemple l'export CSV des "
    "habilitations, la page d'une session sans entrée, le rapport des retards vide) ne sont "
    "contrôlées que par les tests unitaires, sans axe.",
    "Le clavier seul n'est vérifié que sur la connexion et la correction d'une déclaration.",
    "Les documents téléchargés (export CSV) ne sont pas concernés par ces vérifications.",
)


@router.get("/accessibilite")
async def accessibility(request: Request) -> HTMLResponse:
    """The accessibility statement: which RGAA 4.1 criteria are checked and how; no
    conformity rate, as no full audit was made."""
    return render(
        request, "pages/accessibility.html",
        {"checked": RGAA_CHECKED, "not_checked": RGAA_NOT_CHECKED,
         "pages_checked": PAGES_CHECKED},
    )  # fmt: skip
