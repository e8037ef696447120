"""Refusals are RFC 9457 problem details that name each bad field."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from pydantic import BaseModel, Field

from kairos_shared.problems import MEDIA_TYPE, FieldError, Problem, install_problem_handlers


class Address(BaseModel):
    postal_code: str = Field(pattern=r"^\d{5}$")


class Body(BaseModel):
    siret: str = Field(pattern=r"^\d{14}$")
    address: Address


def _app() -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)

    @app.post("/things")
    async def create(body: Body) -> dict[str, str]:
        if body.siret == "0" * 14:
            raise Problem(
                status=409,
                title="Already exists",
                detail="one per SIRET",
                type="conflict",
                errors=[FieldError("siret", "taken")],
            )
        return {"ok": body.siret}

    return app


async def _post(json: object) -> httpx.Response:
    transport = httpx.ASGITransport(app=_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        return await client.post("/things", json=json)


async def test_every_bad_field_is_named_by_its_path() -> None:
    response = await _post({"siret": "123", "address": {"postal_code": "9740"}})
    assert response.status_code == 422
    assert response.headers["content-type"] == MEDIA_TYPE
    body = response.json()
    assert body["type"].endswith("/invalid-request")
    assert body["instance"] == "/things"
    assert {error["field"] for error in body["errors"]} == {
        "body.siret",
        "body.address.postal_code",
    }
    assert "body.siret" in body["detail"]


async def test_a_rule_refusal_keeps_its_status_type_and_fields() -> None:
    response = await _post({"siret": "0" * 14, "address": {"postal_code": "75001"}})
    assert response.status_code == 409
    assert response.json()["errors"] == [{"field": "siret", "message": "taken"}]
    assert (
        await _post({"siret": "1" * 14, "address": {"postal_code": "75001"}})
    ).status_code == 200
