"""An SMTP sink for development and tests: it accepts every message and shows it over HTTP.

The HTTP API is a small subset of Mailpit's (the SMTP sink of the compose stack), so the same
client code reads both: ``GET /api/v1/messages``, ``GET /api/v1/message/{id}``,
``DELETE /api/v1/messages``. Run it with ``python -m kairos_devstack.smtp_sink``.
"""

from __future__ import annotations

import argparse
import asyncio
import email
import email.policy
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import getaddresses
from typing import Any

import uvicorn
from aiosmtpd.smtp import SMTP, Envelope, Session
from fastapi import FastAPI, HTTPException


@dataclass(frozen=True)
class ReceivedMail:
    id: str
    received_at: datetime
    envelope_from: str
    envelope_to: list[str]
    message: EmailMessage
    size: int

    def _addresses(self, header: str) -> list[dict[str, str]]:
        values = self.message.get_all(header, [])
        return [{"Name": name, "Address": address} for name, address in getaddresses(values)]

    def _body(self, subtype: str) -> str:
        part = self.message.get_body(preferencelist=(subtype,))
        return "" if part is None else str(part.get_content())

    def summary(self) -> dict[str, Any]:
        senders = self._addresses("From")
        return {
            "ID": self.id,
            "MessageID": str(self.message.get("Message-ID", "")),
            "From": senders[0] if senders else {"Name": "", "Address": self.envelope_from},
            "To": self._addresses("To"),
            "Cc": self._addresses("Cc"),
            "Subject": str(self.message.get("Subject", "")),
            "Created": self.received_at.isoformat(),
            "Size": self.size,
            "Snippet": self._body("plain")[:200],
        }

    def detail(self) -> dict[str, Any]:
        return {
            **self.summary(),
            "Date": str(self.message.get("Date", "")),
            "EnvelopeFrom": self.envelope_from,
            "EnvelopeTo": self.envelope_to,
            "Text": self._body("plain"),
            "HTML": self._body("html"),
            "Headers": {
                key: [str(v) for v in self.message.get_all(key, [])] for key in self.message
            },
        }


class MailStore:
    """What the sink received, newest first, as Mailpit lists it."""

    def __init__(self) -> None:
        self._mails: list[ReceivedMail] = []

    def add(self, envelope_from: str, envelope_to: list[str], raw: bytes) -> ReceivedMail:
        message = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        mail = ReceivedMail(
            id=uuid.uuid4().hex,
            received_at=datetime.now(UTC),
            envelope_from=envelope_from,
            envelope_to=envelope_to,
            message=message,
            size=len(raw),
        )
        self._mails.insert(0, mail)
        return mail

    def all(self) -> list[ReceivedMail]:
        return list(self._mails)

    def get(self, mail_id: str) -> ReceivedMail | None:
        return next((mail for mail in self._mails if mail.id == mail_id), None)

    def clear(self) -> None:
        self._mails.clear()


class StoringHandler:
    """aiosmtpd handler: every message that reaches DATA is stored and accepted."""

    def __init__(self, store: MailStore) -> None:
        self.store = store

    async def handle_DATA(  # noqa: N802 - aiosmtpd's hook name
        self, _server: SMTP, _session: Session, envelope: Envelope
    ) -> str:
        raw = envelope.original_content or b""
        self.store.add(str(envelope.mail_from), [str(rcpt) for rcpt in envelope.rcpt_tos], raw)
        return "250 Message accepted for delivery"


def create_app(smtp_host: str = "127.0.0.1", smtp_port: int = 1025) -> FastAPI:
    store = MailStore()

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        loop = asyncio.get_running_loop()
        handler = StoringHandler(store)
        server = await loop.create_server(
            lambda: SMTP(handler, hostname="kairos-smtp-sink", loop=loop), smtp_host, smtp_port
        )
        try:
            yield
        finally:
            server.close()
            await server.wait_closed()

    app = FastAPI(title="Kairos SMTP sink", lifespan=lifespan)

    @app.get("/api/v1/messages")
    async def list_messages(limit: int = 50, start: int = 0) -> dict[str, Any]:
        mails = store.all()
        page = mails[start : start + limit]
        return {
            "total": len(mails),
            "count": len(page),
            "start": start,
            "messages": [mail.summary() for mail in page],
        }

    @app.get("/api/v1/message/{mail_id}")
    async def get_message(mail_id: str) -> dict[str, Any]:
        mail = store.get(mail_id)
        if mail is None:
            raise HTTPException(status_code=404, detail=f"no message with id {mail_id}")
        return mail.detail()

    @app.delete("/api/v1/messages")
    async def delete_messages() -> dict[str, str]:
        store.clear()
        return {"status": "deleted"}

    @app.get("/health/ready")
    async def ready() -> dict[str, str]:
        return {"status": "ready"}

    return app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--smtp-port", type=int, default=1025)
    parser.add_argument("--http-port", type=int, default=8025)
    args = parser.parse_args(argv)
    uvicorn.run(
        create_app(args.host, args.smtp_port),
        host=args.host,
        port=args.http_port,
        log_level="warning",
    )


if __name__ == "__main__":
    main()
