"""The SMTP sink accepts real SMTP and shows what it received through Mailpit's API subset."""

from __future__ import annotations

import asyncio
import smtplib
from email.message import EmailMessage

import httpx

from kairos_devstack.processes import free_port
from kairos_devstack.smtp_sink import create_app


def _send(port: int, message: EmailMessage) -> None:
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
        client.send_message(message)


def _mail(to: str, subject: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = "Kairos <ne-pas-repondre@kairos.example>"
    message["To"] = to
    message["Subject"] = subject
    message.set_content("Votre compte a été créé.")
    message.add_alternative("<p>Votre compte a été <b>créé</b>.</p>", subtype="html")
    return message


async def test_received_mail_is_listed_read_and_cleared() -> None:
    smtp_port = free_port()
    app = create_app(smtp_port=smtp_port)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://sink") as http,
    ):
        await asyncio.to_thread(_send, smtp_port, _mail("rgc@of.example", "Compte créé"))
        await asyncio.to_thread(_send, smtp_port, _mail("head@of.example", "Délai de 21 jours"))

        listing = (await http.get("/api/v1/messages")).json()
        assert listing["total"] == 2
        newest, oldest = listing["messages"]
        assert newest["Subject"] == "Délai de 21 jours"
        assert oldest["To"] == [{"Name": "", "Address": "rgc@of.example"}]
        assert oldest["From"]["Address"] == "ne-pas-repondre@kairos.example"

        detail = (await http.get(f"/api/v1/message/{oldest['ID']}")).json()
        assert detail["Text"].strip() == "Votre compte a été créé."
        assert "<b>créé</b>" in detail["HTML"]
        assert detail["EnvelopeTo"] == ["rgc@of.example"]

        assert (await http.get("/api/v1/message/unknown")).status_code == 404
        assert (await http.delete("/api/v1/messages")).status_code == 200
        assert (await http.get("/api/v1/messages")).json()["total"] == 0
