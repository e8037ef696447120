"""The identity service's HTTP API (OpenAPI at /docs): adhesions, organisation access,
sessions, passwords, and the JWKS the other services validate tokens with."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, EmailStr, Field

from kairos_identity.adapters.organisations import Contact
from kairos_identity.domain.organisations import OrganisationAccess
from kairos_identity.entrypoints.auth import AnySession, Context, FullSession, Operator
from kairos_identity.service_layer import adhesions, compromise, credentials, sessions
from kairos_identity.service_layer.account_opening import ProvisionalCredentials

router = APIRouter()


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class AddressBody(_Body):
    street: str = Field(min_length=1, max_length=200)
    postal_code: str = Field(min_length=1, max_length=10)
    city: str = Field(min_length=1, max_length=100)


class PersonBody(_Body):
    first_name: str = Field(min_length=1, max_length=100)
    last_name: str = Field(min_length=1, max_length=100)
    email: EmailStr


class HeadBody(PersonBody):
    function: str = Field(min_length=1, max_length=100)


class TermsBody(_Body):
    version: str = Field(min_length=1, max_length=50)
    accepted_on: date


class AdhesionBody(_Body):
    siret: str = Field(max_length=20, description="14 digits (spaces allowed)")
    nda: str = Field(max_length=20, description="activity declaration number, 11 digits")
    legal_name: str = Field(min_length=1, max_length=200)
    address: AddressBody
    head: HeadBody
    rgc: PersonBody | None = Field(
        default=None, description="the RGC; left out when the head is also the RGC"
    )
    head_is_rgc: bool = Field(
        default=False,
        description="the head is also the RGC: one person, one account holding both roles",
    )
    terms: TermsBody


def _client(request: Request) -> str:
    """The client's address (behind a reverse proxy, uvicorn's ``FORWARDED_ALLOW_IPS`` makes it
    the client's own), which the throttles count by."""
    return request.client.host[:100] if request.client else "unknown"


class AdhesionCreated(BaseModel):
    organisation_id: uuid.UUID
    status: str


@router.post(
    "/v1/organisations",
    status_code=201,
    tags=["organisations"],
    responses={429: {"description": "too many requests from this address: see Retry-After"}},
)
async def request_adhesion(
    body: AdhesionBody, context: Context, request: Request
) -> AdhesionCreated:
    """An organisation asks to join (K1); an operator validates or rejects it, or it expires
    after the configured time. Refused (409) while a live adhesion (requested, active or
    suspended) holds the SIRET; a rejected, expired or withdrawn one's SIRET may apply again.
    Throttled per client address (429 with Retry-After)."""
    client_address = _client(request)
    organisation_id = await adhesions.request_adhesion(
        context,
        adhesions.AdhesionRequest(
            siret=body.siret, nda=body.nda, legal_name=body.legal_name,
            street=body.address.street, postal_code=body.address.postal_code,
            city=body.address.city,
            head=Contact(body.head.first_name, body.head.last_name, body.head.email,
                         body.head.function),
            rgc=None if body.rgc is None else Contact(
                body.rgc.first_name, body.rgc.last_name, body.rgc.email
            ),
            terms_version=body.terms.version, terms_accepted_on=body.terms.accepted_on,
            head_is_rgc=body.head_is_rgc,
        ),
        client_address,
    )  # fmt: skip
    return AdhesionCreated(organisation_id=organisation_id, status="requested")


class ProvisionalCredentialsBody(BaseModel):
    account_id: uuid.UUID
    login_id: str
    provisional_password: str = Field(description="shown once; hand it over, never e-mail it")
    provisional_until: datetime


def _credentials(issued: ProvisionalCredentials, response: Response) -> ProvisionalCredentialsBody:
    response.headers["Cache-Control"] = "no-store"
    assert issued.provisional_until is not None  # credentials shown have their deadline (K6)
    return ProvisionalCredentialsBody(
        account_id=issued.account_id,
        login_id=issued.login_id,
        provisional_password=issued.provisional_password,
        provisional_until=issued.provisional_until,
    )


class AccessStatus(BaseModel):
    organisation_id: uuid.UUID
    status: str
    access_expires_at: datetime | None

    @classmethod
    def of(cls, organisation_id: uuid.UUID, access: OrganisationAccess) -> AccessStatus:
        return cls(
            organisation_id=organisation_id,
            status=access.status.value,
            access_expires_at=access.access_expires_at,
        )


@router.post(
    "/v1/organisations/{organisation_id}/validation", status_code=201, tags=["organisations"]
)
async def validate_adhesion(
    organisation_id: uuid.UUID, context: Context, claims: Operator, response: Response
) -> ProvisionalCredentialsBody:
    """An operator validates the adhesion (K2): 3 years of access; the RGC's provisional
    credentials are in this response only (K6)."""
    issued = await adhesions.validate_adhesion(
        context, organisation_id, uuid.UUID(claims.account_id)
    )
    return _credentials(issued, response)


@router.post("/v1/organisations/{organisation_id}/renewal", tags=["organisations"])
async def renew(organisation_id: uuid.UUID, context: Context, claims: Operator) -> AccessStatus:
    """A new 3-year access period (K2)."""
    access = await adhesions.renew_access(context, organisation_id, uuid.UUID(claims.account_id))
    return AccessStatus.of(organisation_id, access)


@router.get("/v1/accounts/{account_id}/provisional-credentials", tags=["accounts"])
async def retrieve_provisional_credentials(
    account_id: uuid.UUID, context: Context, claims: FullSession, response: Response
) -> ProvisionalCredentialsBody:
    """The RGC (or head) of the account's organisation retrieves a habilitated person's
    provisional credentials to hand them over — once (K11); a second call is refused (409)."""
    issued = await credentials.retrieve_provisional_credentials(context, claims, account_id)
    return _credentials(issued, response)


@router.get("/v1/rgc-designations/{designation_id}/provisional-credentials", tags=["accounts"])
async def retrieve_designated_credentials(
    designation_id: uuid.UUID, context: Context, claims: Operator, response: Response
) -> ProvisionalCredentialsBody:
    """The operator who validated an RGC designation (habilitation service) retrieves the
    provisional credentials of the account it opened — the new RGC's, or the head's — to hand
    them over, once (K6, K10); 404 for the moment it takes the account to open, 409 after."""
    issued = await credentials.retrieve_designated_credentials(context, claims, designation_id)
    return _credentials(issued, response)


@router.post(
    "/v1/accounts/{account_id}/provisional-credentials",
    status_code=201,
    tags=["accounts"],
    responses={409: {"description": "the account is not lapsed, or is an RGC's (designate anew)"}},
)
async def reissue_provisional_credentials(
    account_id: uuid.UUID, context: Context, claims: FullSession, response: Response
) -> ProvisionalCredentialsBody:
    """The RGC (or the head while the RGC post is vacant) of the account's organisation gets
    new provisional credentials for a person whose first ones lapsed unused while the
    habilitation is still active (K6): shown once, to hand over; valid 7 days again, to the
    end of the last day in the organisation's zone. The account is no longer lapsed."""
    issued = await credentials.reissue_lapsed_credentials(context, claims, account_id)
    return _credentials(issued, response)


@router.post("/v1/accounts/{account_id}/password-reset", status_code=201, tags=["accounts"])
async def reset_password(
    account_id: uuid.UUID, context: Context, claims: Operator, response: Response
) -> ProvisionalCredentialsBody:
    """An operator resets an account's password (K7): new provisional credentials, shown
    once; the account's sessions end."""
    return _credentials(await credentials.reset_password(context, claims, account_id), response)


class ReasonBody(_Body):
    reason: str = Field(min_length=3, max_length=500)


class CompromiseFlag(BaseModel):
    account_id: uuid.UUID
    password_change_required: bool = True
    sessions_ended: int


@router.post("/v1/accounts/{account_id}/compromise", tags=["accounts"])
async def flag_compromised(
    account_id: uuid.UUID, body: ReasonBody, context: Context, claims: Operator
) -> CompromiseFlag:
    """An operator flags the account as compromised (K7): its sessions end at once, in every
    service (``SessionEnded``), and its next login may only set a new password. When the
    password itself may be known to an attacker, reset it instead (``password-reset``)."""
    flagged = await compromise.flag_compromised(context, claims, account_id, body.reason)
    return CompromiseFlag(account_id=flagged.account_id, sessions_ended=flagged.sessions_ended)


async def _change(
    context: Context, organisation_id: uuid.UUID, claims: Operator, step: str, reason: str | None
) -> AccessStatus:
    access = await adhesions.change_status(
        context, organisation_id, uuid.UUID(claims.account_id), adhesions.StatusChange(step, reason)
    )
    return AccessStatus.of(organisation_id, access)


@router.post("/v1/organisations/{organisation_id}/suspension", tags=["organisations"])
async def suspend(
    organisation_id: uuid.UUID, body: ReasonBody, context: Context, claims: Operator
) -> AccessStatus:
    """Suspend the organisation's access (K3): its sessions end at once, through events."""
    return await _change(context, organisation_id, claims, "suspend", body.reason)


@router.post("/v1/organisations/{organisation_id}/withdrawal", tags=["organisations"])
async def withdraw(
    organisation_id: uuid.UUID, body: ReasonBody, context: Context, claims: Operator
) -> AccessStatus:
    """Withdraw the organisation's access for good (K3)."""
    return await _change(context, organisation_id, claims, "withdraw", body.reason)


@router.post("/v1/organisations/{organisation_id}/rejection", tags=["organisations"])
async def reject(
    organisation_id: uuid.UUID, body: ReasonBody, context: Context, claims: Operator
) -> AccessStatus:
    """An operator rejects a pending adhesion request (K1), with a reason e-mailed to the head
    who asked; the SIRET may apply again."""
    access = await adhesions.reject_adhesion(
        context, organisation_id, uuid.UUID(claims.account_id), body.reason
    )
    return AccessStatus.of(organisation_id, access)


@router.post("/v1/organisations/{organisation_id}/reinstatement", tags=["organisations"])
async def reinstate(organisation_id: uuid.UUID, context: Context, claims: Operator) -> AccessStatus:
    """Lift a suspension (K3)."""
    return await _change(context, organisation_id, claims, "reinstate", None)


class OrganisationView(BaseModel):
    organisation_id: uuid.UUID
    siret: str
    nda: str
    legal_name: str
    zone: str
    status: str
    access_expires_at: datetime | None


@router.get("/v1/organisations/{organisation_id}", tags=["organisations"])
async def organisation(
    organisation_id: uuid.UUID, context: Context, claims: FullSession
) -> OrganisationView:
    """An organisation's identity and access status: operators, and the organisation's own
    people (K22: nobody else)."""
    record = await adhesions.organisation_for(context, claims, organisation_id)
    return OrganisationView(
        organisation_id=record.id,
        siret=record.siret,
        nda=record.nda,
        legal_name=record.legal_name,
        zone=record.zone,
        status=record.access.status.value,
        access_expires_at=record.access.access_expires_at,
    )


class LoginBody(_Body):
    login_id: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=1, max_length=1024)


class Tokens(BaseModel):
    access_token: str
    refresh_token: str
    token_type: str = "Bearer"  # noqa: S105 - the OAuth token type, not a secret
    expires_in: int
    password_change_required: bool


def _tokens(issued: sessions.IssuedTokens, response: Response) -> Tokens:
    response.headers["Cache-Control"] = "no-store"
    return Tokens(
        access_token=issued.access_token,
        refresh_token=issued.refresh_token,
        expires_in=issued.expires_in,
        password_change_required=issued.password_change_only,
    )


_THROTTLED: dict[int | str, dict[str, Any]] = {
    429: {
        "description": "too many requests from this address or in all, or too many failed "
        "logins for this login id from this address: see Retry-After"
    },
    503: {"description": "too many password checks at once: see Retry-After"},
}


@router.post("/v1/sessions", status_code=201, tags=["sessions"], responses=_THROTTLED)
async def login(body: LoginBody, context: Context, response: Response, request: Request) -> Tokens:
    """Log in (K5, K8, K4): a short-lived access token and a refresh token."""
    issued = await sessions.login(context, body.login_id, body.password, _client(request))
    return _tokens(issued, response)


class RefreshBody(_Body):
    refresh_token: str = Field(min_length=1, max_length=200)


@router.post(
    "/v1/sessions/refresh",
    tags=["sessions"],
    responses={429: {"description": "too many requests from this address: see Retry-After"}},
)
async def refresh(
    body: RefreshBody, context: Context, response: Response, request: Request
) -> Tokens:
    """A new access token for a live session; the refresh token is replaced (K9)."""
    return _tokens(await sessions.refresh(context, body.refresh_token, _client(request)), response)


@router.delete("/v1/sessions/current", status_code=204, tags=["sessions"])
async def logout(context: Context, claims: AnySession) -> None:
    """Log out: the session's data is deleted and every service is told (K9)."""
    await sessions.logout(context, claims)


class PasswordChangeBody(_Body):
    current_password: str = Field(min_length=1, max_length=1024)
    new_password: str = Field(min_length=1, max_length=1024)


@router.post("/v1/accounts/me/password", status_code=204, tags=["accounts"], responses=_THROTTLED)
async def change_password(
    body: PasswordChangeBody, context: Context, claims: AnySession, request: Request
) -> None:
    """Replace the password (K6, K7); the account's sessions end: log in again."""
    await sessions.change_password(
        context, claims, body.current_password, body.new_password, _client(request)
    )


@router.get("/.well-known/jwks.json", tags=["keys"])
async def jwks(context: Context) -> dict[str, list[dict[str, str]]]:
    """The public keys that sign access tokens, for the other services (K9)."""
    return context.signer.jwks()
