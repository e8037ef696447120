"""The portal's pages against the bare API calls they wrap: server time per page (p50, p95) and
pages/s, for the declarations list and the monthly attendance grid of a session of 500 trainees.

Run: ``.venv/bin/python bench/portal.py [--quick]``. The whole platform is started as real
processes on a durable PostgreSQL (fsync on) and a real Kafka, with a portal process beside it
(its own ``portal`` database on the platform's server), then stopped. One OF, one habilitated
trainer, one training session with ``TRAINEES`` entries declared over the API.

- declarations list: ``GET /kairos/declarations`` (the page: web session, the service's call,
  the HTML) against ``GET /v1/organisations/{id}/declarations?limit=50`` with the trainer's own
  token (the one call the page makes).
- attendance grid: ``GET /kairos/sessions/{action}/{session}/presences`` (500 rows of three
  inputs) against the calls it makes: the session's entries, 100 a page (the service's largest),
  following the cursor — five GETs in a row.
- time per page: ``REQUESTS`` requests one after another, each timed by the client from send
  to the last byte on the loopback (the server's time plus a loopback round trip, the same for
  both sides); p50 and p95.
- pages/s: ``REQUESTS`` requests by ``CONCURRENCY`` clients, first send to last answer.

Both sides of each figure are measured in the same run, on the same platform, one after the
other.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from infra import headline, percentile, write_results
from running_platform import running_platform, tenants

from kairos_devstack.processes import free_port, spawn
from kairos_devstack.story_clients import PASSWORD, bearer, wait_for

TRAINEES = 500
REQUESTS = 200
CONCURRENCY = 4
DECLARE_CONCURRENCY = 8
ENTRIES_PAGE = 100
UNLIMITED_READS = {
    "KAIROS_DECLARATION_READS_PER_SECOND": "100000",
    "KAIROS_DECLARATION_READS_BURST": "100000",
}
"""The per-account read limit (K22: 2/s sustained, 30 at once) lifted: the benchmark measures
the time of a page, not the limiter; in production one person opening the 500-trainee grid (5
reads) may do so about every 2.5 s."""


async def _declare_entries(tenancy: Any, count: int) -> tuple[str, str]:
    """``count`` entries in the OF's session, over the API as the trainer."""
    soak = tenancy.soak
    of, person = tenancy.people[0]
    limit = asyncio.Semaphore(DECLARE_CONCURRENCY)

    async def entry(n: int) -> None:
        body = {"session": of.session, "trainee_id": f"{n:07d}P",
                "entered_on": soak.month.isoformat()}  # fmt: skip
        async with limit:
            answer = await soak.post_declaration(person, f"/v1/organisations/{of.id}/entries", body)
        assert answer.status_code == httpx.codes.CREATED, answer.text[:300]

    await asyncio.gather(*(entry(n) for n in range(1, count + 1)))
    return of.session["action_number"], of.session["session_number"]


def _portal_process(platform: Any) -> tuple[Any, str]:
    platform.postgres.create_databases(["portal"])
    port = free_port()
    env = {
        "KAIROS_PORTAL_HTTP_PORT": str(port), "KAIROS_PORTAL_DEVELOPMENT": "true",
        "KAIROS_PORTAL_DATABASE_URL": platform.postgres.dsn("portal"),
        "KAIROS_CLOCK_OFFSET_FILE": str(platform.offset_file),
        **{f"KAIROS_PORTAL_{name.upper()}_URL": url
           for name, url in platform.endpoints().http().items()},
    }  # fmt: skip
    process = spawn("portal", [sys.executable, "-m", "kairos_portal"],
                    log_path=platform.logs / "portal.log", env=env)  # fmt: skip
    return process, f"http://127.0.0.1:{port}"


async def _signed_in(portal: httpx.AsyncClient, login_id: str) -> None:
    async def ready() -> bool | None:
        try:
            return True if (await portal.get("/health/ready")).status_code == 200 else None
        except httpx.HTTPError:
            return None

    await wait_for(ready, "the portal to be ready")
    page = await portal.get("/connexion")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token, "no CSRF token on the sign-in page"
    answer = await portal.post(
        "/connexion", data={"login_id": login_id, "password": PASSWORD, "csrf_token": token[1]}
    )
    assert answer.status_code == httpx.codes.SEE_OTHER, answer.text[:500]


Fetch = Callable[[], Awaitable[None]]


async def _latencies(fetch: Fetch, count: int) -> list[float]:
    seconds = []
    for _ in range(count):
        started = time.perf_counter()
        await fetch()
        seconds.append(time.perf_counter() - started)
    return seconds


async def _rate(fetch: Fetch, count: int, concurrency: int) -> float:
    remaining = iter(range(count))

    async def client() -> None:
        for _ in remaining:
            await fetch()

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    return count / (time.perf_counter() - started)


async def _measure(name: str, fetch: Fetch, count: int) -> dict[str, float]:
    await _latencies(fetch, max(3, count // 20))  # warm-up: connections, caches
    seconds = await _latencies(fetch, count)
    figures = {
        "p50_ms": percentile(seconds, 50) * 1000, "p95_ms": percentile(seconds, 95) * 1000,
        "per_s": await _rate(fetch, count, CONCURRENCY),
    }  # fmt: skip
    print(f"  {name:<34} p50 {figures['p50_ms']:7.1f} ms  p95 {figures['p95_ms']:7.1f} ms  "
          f"{figures['per_s']:7.1f}/s")  # fmt: skip
    return figures


async def main(trainees: int, count: int) -> dict[str, Any]:
    async with (
        running_platform(UNLIMITED_READS) as platform,
        tenants(platform, organisations=1, people=1) as tenancy,
    ):
        of, person = tenancy.people[0]
        print(f"declaring {trainees} entries ...")
        action, number = await _declare_entries(tenancy, trainees)
        month = f"{tenancy.soak.month:%Y-%m}"  # the entries' month
        process, url = _portal_process(platform)
        try:
            limits = httpx.Limits(max_connections=CONCURRENCY * 2)
            async with (
                httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as portal,
                httpx.AsyncClient(
                    base_url=platform.endpoints().http()["declaration"], timeout=60, limits=limits
                ) as api,  # fmt: skip
            ):
                await _signed_in(portal, person.login_id)
                return await _run(portal, api, of.id, person.token, action, number, month,
                                  trainees, count)  # fmt: skip
        finally:
            process.stop()


async def _run(  # noqa: PLR0917 - one run's whole context
    portal: httpx.AsyncClient, api: httpx.AsyncClient, organisation: str, token: str,
    action: str, number: str, month: str, trainees: int, count: int,
) -> dict[str, Any]:  # fmt: skip
    listing = f"/v1/organisations/{organisation}/declarations"
    grid = f"/kairos/sessions/{action}/{number}/presences?mois={month}"

    async def list_page() -> None:
        answer = await portal.get("/kairos/declarations")
        assert answer.status_code == httpx.codes.OK, answer.text[:300]

    async def list_api() -> None:
        answer = await api.get(listing, params={"limit": 50}, headers=bearer(token))
        assert answer.status_code == httpx.codes.OK, answer.text[:300]

    async def grid_page() -> None:
        answer = await portal.get(grid)
        assert answer.status_code == httpx.codes.OK, answer.text[:300]

    async def grid_api() -> None:
        params: dict[str, Any] = {"kind": "entry", "action_number": action,
                                  "session_number": number, "limit": ENTRIES_PAGE}  # fmt: skip
        while True:
            answer = await api.get(listing, params=params, headers=bearer(token))
            assert answer.status_code == httpx.codes.OK, answer.text[:300]
            cursor = answer.json().get("next_cursor")
            if not cursor:
                return
            params = {**params, "cursor": cursor}

    rows = (await portal.get(grid)).text.count('name="rows-') // 3
    assert rows == trainees, f"the grid shows {rows} rows, not {trainees}"
    print(f"{count} requests each, {CONCURRENCY} clients for the rate:")
    figures = {
        "list_api": await _measure("declarations list: API call", list_api, count),
        "list_page": await _measure("declarations list: page", list_page, count),
        "grid_api": await _measure(f"grid of {trainees}: API calls", grid_api, count),
        "grid_page": await _measure(f"grid of {trainees}: page", grid_page, count),
    }
    lines = []
    for key, what in (("list", "declarations list page"), ("grid", f"grid page, {trainees}")):
        api_side, page = figures[f"{key}_api"], figures[f"{key}_page"]
        lines += [
            headline(f"{what}: p50", "ms", api_side["p50_ms"], page["p50_ms"]),
            headline(f"{what}: p95", "ms", api_side["p95_ms"], page["p95_ms"]),
            headline(f"{what}: pages/s", "pages/s", api_side["per_s"], page["per_s"]),
        ]
    return {"trainees": trainees, "requests": count, "concurrency": CONCURRENCY,
            "figures": figures, "headline": lines}  # fmt: skip


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="try out: small, nothing written")
    args = parser.parse_args()
    results = asyncio.run(main(TRAINEES, 30 if args.quick else REQUESTS))
    if args.quick:
        print("results not written (--quick)")
    else:
        print(f"results: {write_results('portal', results)}")
