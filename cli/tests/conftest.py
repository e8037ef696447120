"""Fixtures of the command-line tests: the CLI run as an operator would (``CliRunner``, in a
worker thread, since each command runs its own event loop), and the real identity and
habilitation apps in-process, which the CLI's HTTP requests reach through a transport that hands
each request to the test's event loop."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass

import httpx
import pytest
import pytest_asyncio
from typer.testing import CliRunner, Result

import kairos_cli.http
from kairos_cli.main import app
from kairos_devstack.platform import Platform, running_platform

Kairos = Callable[..., Awaitable[Result]]


@pytest.fixture
def kairos() -> Kairos:
    """``await kairos("lag", "--json", env={...}, input="...")``: the CLI's result."""
    runner = CliRunner()

    async def invoke(
        *args: str, env: Mapping[str, str] | None = None, input: str | None = None
    ) -> Result:
        def call() -> Result:
            return runner.invoke(app, list(args), env=env, input=input)

        return await asyncio.to_thread(call)

    return invoke


class _LoopTransport(httpx.BaseTransport):
    """A synchronous transport (the CLI's) that sends through an async client of the apps,
    on the loop they run in."""

    def __init__(self, client: httpx.AsyncClient, loop: asyncio.AbstractEventLoop) -> None:
        self.client = client
        self.loop = loop

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        async def send() -> httpx.Response:
            forwarded = httpx.Request(
                request.method, request.url, headers=request.headers, content=request.read()
            )
            response = await self.client.send(forwarded)
            await response.aread()
            return httpx.Response(
                response.status_code, headers=response.headers, content=response.content
            )

        return asyncio.run_coroutine_threadsafe(send(), self.loop).result(timeout=120)


@dataclass
class CliPlatform:
    platform: Platform
    identity_database_url: str
    urls: tuple[str, str] = ("--identity-url=http://identity", "--habilitation-url=http://hab")


@pytest_asyncio.fixture(loop_scope="session")
async def cli_platform(
    new_database: Callable[[], Awaitable[str]],
    kafka_bootstrap_servers: str,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[CliPlatform]:
    """The identity and habilitation apps with an operator logged in; the CLI's clients for
    ``http://identity`` and ``http://hab`` reach them."""
    databases: list[str] = []

    async def recorded_database() -> str:
        databases.append(await new_database())
        return databases[-1]

    async with running_platform(recorded_database, kafka_bootstrap_servers) as platform:
        loop = asyncio.get_running_loop()
        apps = {"http://identity": platform.identity_http, "http://hab": platform.http}

        def make_client(base_url: str) -> httpx.Client:
            return httpx.Client(base_url=base_url, transport=_LoopTransport(apps[base_url], loop))

        monkeypatch.setattr(kairos_cli.http, "make_client", make_client)
        yield CliPlatform(platform, identity_database_url=databases[0])
