"""Revocation propagation — the mission's heart: how long after a revocation is answered does
the declaration service refuse that person? Against the raw Kafka round trip on the same Kafka.

Run: ``make bench`` (or ``.venv/bin/python bench/propagation.py [--quick]``).

On the whole platform (every service a process, durable PostgreSQL, one Kafka broker), with a
steady background load of declarations from people who stay habilitated:

- **revocation**: the RGC ends a habilitation (habilitation service); from its 2xx until the
  declaration service refuses the person. The probe is ``GET …/sessions`` with the person's token,
  sent back to back: the declaration service decides it with the very rule that decides a
  declaration (``reader_scope`` and ``declarer_scope`` share ``_of_role_allowed``, K17) and it
  writes nothing. Once refused, a real declaration must be refused too (counted).
- **suspension**: an operator suspends the OF (identity service); from its 2xx until refused.
  The OF is reinstated after each, and the time until the person may declare again is kept too.
- **RGC lapse**: RGCs that never logged in; the platform's clock moves 21 days on, the identity
  service's deadline job lapses them (K6). Nobody holds a token to probe with, so this one is
  measured from ``lapsed_at`` (the identity service's decision, in its event) until the
  declaration service's own table has the lapse, polled every few ms.
- **baseline**: one record produced (idempotent, acks=all) then consumed, one at a time, on the
  same Kafka, idle and under the same background load.
- **memory**: RSS of every service process before the people are prepared, and its peak from
  then to the end (sampled every half second).

The probe's own HTTP round trip bounds the resolution: its p50 is printed beside.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Self

import asyncpg
import httpx
from aiokafka import AIOKafkaConsumer
from infra import headline, percentile, write_results
from meters import resident_mib, rss_peaks
from outbox import raw_round_trip
from running_platform import Tenants, running_platform, tenants

from kairos_devstack.process_platform import ProcessPlatform
from kairos_devstack.soak import OF, Person, Soak
from kairos_devstack.story_clients import StoryError, bearer, expect, login, move_clock
from kairos_schemas import habilitation as habilitation_events
from kairos_shared.clock import OffsetClock

REFUSED = {httpx.codes.UNAUTHORIZED, httpx.codes.FORBIDDEN}
PROBE_PAUSE = 0.005
"""Seconds between two probes of one person (a probe is one HTTP round trip)."""
GIVE_UP = 60.0


class BenchError(Exception):
    pass


class EventWatch:
    """When each event of one type reached Kafka, as a raw consumer sees it (``perf_counter``
    seconds by a field of its payload): splits a propagation into the relay's part and the
    consumer's."""

    def __init__(self, kafka: str, topic: str, event_type: str, field: str) -> None:
        self.consumer = AIOKafkaConsumer(topic, bootstrap_servers=kafka, group_id=None)
        self.event_type, self.field = event_type.encode(), field
        self.seen: dict[str, float] = {}
        self.event_ids: dict[str, str] = {}
        self.task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Self:
        await self.consumer.start()
        self.task = asyncio.create_task(self._watch())
        return self

    async def __aexit__(self, *_: object) -> None:
        assert self.task is not None
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task
        await self.consumer.stop()

    async def _watch(self) -> None:
        async for record in self.consumer:
            headers = dict(record.headers)
            if headers.get("ce_type") == self.event_type and record.value:
                key = str(json.loads(record.value)[self.field])
                self.seen[key] = time.perf_counter()
                self.event_ids[key] = headers["ce_id"].decode()

    async def arrival(self, key: str) -> float:
        async with asyncio.timeout(GIVE_UP):
            while key not in self.seen:  # noqa: ASYNC110 - filled by the consumer task
                await asyncio.sleep(0.001)
        return self.seen[key]


@dataclass
class Figures:
    """Milliseconds, one per event measured, and what else was counted."""

    latencies: list[float] = field(default_factory=list)
    probes: list[float] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
    parts: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))

    def summary(self) -> dict[str, Any]:
        return {
            "count": len(self.latencies),
            **quantiles(self.latencies),
            "probe_round_trip_p50_ms": percentile(self.probes, 50),
            "counts": dict(self.counts),
            "parts": {name: quantiles(values) for name, values in self.parts.items()},
        }


def quantiles(values: list[float]) -> dict[str, float]:
    return {f"p{q}_ms": percentile(values, q) for q in (50, 95, 99)} | {
        "max_ms": max(values, default=float("nan"))
    }


class Prober:
    def __init__(self, soak: Soak) -> None:
        self.soak = soak

    async def allowed(self, of: OF, person: Person, figures: Figures) -> bool:
        started = time.perf_counter()
        response = await self.soak.declaration.get(
            f"/v1/organisations/{of.id}/sessions", headers=bearer(person.token)
        )
        figures.probes.append((time.perf_counter() - started) * 1000)
        if response.status_code == httpx.codes.OK:
            return True
        if response.status_code in REFUSED:
            return False
        raise BenchError(f"probe: {response.status_code} {response.text[:300]}")

    async def until(self, of: OF, person: Person, figures: Figures, *, allowed: bool) -> float:
        """Milliseconds from now until the probe answers ``allowed``."""
        since = time.perf_counter()
        async with asyncio.timeout(GIVE_UP):
            while await self.allowed(of, person, figures) != allowed:  # noqa: ASYNC110 - polls another process over HTTP
                await asyncio.sleep(PROBE_PAUSE)
        return (time.perf_counter() - since) * 1000

    async def declaration_refused(self, of: OF, person: Person) -> bool:
        of.trainees += 1
        body = {"session": of.session, "trainee_id": trainee_id(of),
                "entered_on": self.soak.month.isoformat()}  # fmt: skip
        response = await self.soak.declaration.post(
            f"/v1/organisations/{of.id}/entries", json=body,
            headers=bearer(person.token) | {"Idempotency-Key": str(uuid.uuid4())},
        )  # fmt: skip
        return response.status_code in REFUSED


def trainee_id(of: OF) -> str:
    return f"{(int(of.id[:6], 16) * 1000 + of.trainees) % 10**7:07d}B"


# --- background load -------------------------------------------------------------------------


@dataclass
class Background:
    """Declarations at a steady rate from each OF's first person (never revoked)."""

    tenants: Tenants
    rate: float
    outcomes: Counter[str] = field(default_factory=Counter)
    started: float = 0.0
    stopped: float = 0.0

    async def run(self, stop: asyncio.Event) -> None:
        self.started = time.perf_counter()
        pending: set[asyncio.Task[None]] = set()
        sent = 0
        rng = random.Random(7)
        while not stop.is_set():
            of = rng.choice(self.tenants.organisations)
            task = asyncio.create_task(self._declare(of))
            pending.add(task)
            task.add_done_callback(pending.discard)
            sent += 1
            delay = self.started + sent / self.rate - time.perf_counter()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(max(delay, 0)):
                    await stop.wait()
        await asyncio.gather(*pending)
        self.stopped = time.perf_counter()

    async def _declare(self, of: OF) -> None:
        of.trainees += 1
        body = {"session": of.session, "trainee_id": trainee_id(of),
                "entered_on": self.tenants.soak.month.isoformat()}  # fmt: skip
        try:
            response = await self.tenants.soak.post_declaration(
                of.people[0], f"/v1/organisations/{of.id}/entries", body
            )
        except (httpx.HTTPError, StoryError) as error:  # e.g. no login while suspended
            self.outcomes[f"error {type(error).__name__}"] += 1
            return
        self.outcomes[str(response.status_code)] += 1

    def summary(self) -> dict[str, Any]:
        seconds = self.stopped - self.started
        accepted = self.outcomes.get("201", 0)
        return {
            "target_per_s": self.rate, "seconds": round(seconds, 1),
            "accepted_per_s": accepted / seconds if seconds else 0.0,
            "outcomes": dict(self.outcomes),
        }  # fmt: skip


# --- the three endings -----------------------------------------------------------------------


async def revocations(
    t: Tenants, watch: EventWatch, database_url: str, count: int, lanes: int
) -> Figures:
    """Also split: 2xx → the ending on Kafka (``relay``) and Kafka → refused (``consumer``, the
    probe's resolution included); and 2xx → the declaration service's consumer takes the event
    in (``applied``: its inbox row's ``clock_timestamp()``, the transaction that changes the
    person's rights then commits within a few ms), free of the probe's round trip."""
    prober, figures = Prober(t.soak), Figures()
    answered_at: dict[str, float] = {}
    """Wall-clock second of each 2xx, by habilitation id."""
    candidates = [(of, person) for of in t.organisations for person in of.people[1:]]
    if len(candidates) < count:
        raise BenchError(f"{count} revocations need {count} people, {len(candidates)} prepared")
    queue = candidates[:count]

    async def lane(share: list[tuple[OF, Person]]) -> None:
        for of, person in share:
            if not await prober.allowed(of, person, figures):
                raise BenchError(f"{person.login_id} refused before its revocation")
            ended = await t.soak.as_rgc(
                of, t.soak.habilitation, "POST",
                f"/v1/habilitations/{person.habilitation_id}/ending", {"reason": "departure"},
            )  # fmt: skip
            expect(ended, 200)
            answered = time.perf_counter()
            answered_at[person.habilitation_id] = time.time()
            person.revoked_at = time.monotonic()
            figures.latencies.append(await prober.until(of, person, figures, allowed=False))
            on_kafka = await watch.arrival(person.habilitation_id)
            figures.parts["relay"].append((on_kafka - answered) * 1000)
            figures.parts["consumer"].append(figures.latencies[-1] - (on_kafka - answered) * 1000)
            refused = await prober.declaration_refused(of, person)
            figures.counts["declaration refused after the probe" if refused else "WRONG"] += 1

    await asyncio.gather(*(lane(queue[i::lanes]) for i in range(lanes)))
    by_event = {watch.event_ids[key]: at for key, at in answered_at.items()}
    connection = await asyncpg.connect(database_url)
    try:
        rows = await connection.fetch(
            "SELECT event_id, processed_at FROM inbox WHERE event_id = ANY($1)", list(by_event)
        )
    finally:
        await connection.close()
    figures.parts["applied"] = [
        (row["processed_at"].timestamp() - by_event[row["event_id"]]) * 1000 for row in rows
    ]
    figures.counts["applied by the declaration service"] = len(rows)
    return figures


async def suspensions(t: Tenants, cycles: int) -> tuple[Figures, Figures]:
    """Suspend, measure until refused; reinstate, log in again (a suspension ends the OF's
    sessions), measure until allowed. One OF at a time, round robin."""
    prober, suspended, reinstated = Prober(t.soak), Figures(), Figures()
    operator = t.soak.operator
    for cycle in range(cycles):
        of = t.organisations[cycle % len(t.organisations)]
        person = of.people[0]
        base = f"/v1/organisations/{of.id}"
        answer = await operator.send(
            t.soak.identity, "POST", f"{base}/suspension", {"reason": "benchmark suspension"}
        )
        expect(answer, 200)
        suspended.latencies.append(await prober.until(of, person, suspended, allowed=False))
        expect(await operator.send(t.soak.identity, "POST", f"{base}/reinstatement"), 200)
        answered = time.perf_counter()
        person.token = await login(t.soak.identity, person.login_id)
        await prober.until(of, person, reinstated, allowed=True)
        reinstated.latencies.append((time.perf_counter() - answered) * 1000)
    return suspended, reinstated


async def rgc_lapses(platform: ProcessPlatform, soak: Soak, count: int) -> Figures:
    """``count`` OFs validated whose RGC never logs in; past their 21st day, until the declaration
    service knows each lapse."""
    figures = Figures()
    issued = await asyncio.gather(*(soak.validated_organisation(10_000 + n) for n in range(count)))
    accounts = [uuid.UUID(str(rgc["account_id"])) for rgc in issued]
    offset_file = platform.endpoints().clock_offset_file
    move_clock(offset_file, timedelta(days=22))  # past the end of the 21st day (K6)
    offset = OffsetClock(offset_file).offset()
    seen: dict[uuid.UUID, float] = {}
    connection = await asyncpg.connect(platform.database_url("declaration"))
    try:
        async with asyncio.timeout(GIVE_UP * 2):
            while len(seen) < count:
                rows = await connection.fetch(
                    "SELECT account_id, lapsed_at FROM lapsed_account WHERE account_id = ANY($1)",
                    accounts,
                )
                now = datetime.now(UTC)
                for row in rows:
                    if row["account_id"] not in seen:
                        decided = row["lapsed_at"] - offset
                        seen[row["account_id"]] = (now - decided).total_seconds() * 1000
                await asyncio.sleep(0.005)
    finally:
        await connection.close()
    figures.latencies = list(seen.values())
    return figures


# --- the run ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sizes:
    organisations: int
    people: int
    revocations: int
    suspensions: int
    lapses: int
    lanes: int
    rate: float
    round_trips: int


FULL = Sizes(organisations=10, people=52, revocations=500, suspensions=30, lapses=20, lanes=2,
             rate=30.0, round_trips=500)  # fmt: skip
QUICK = Sizes(organisations=3, people=11, revocations=30, suspensions=3, lapses=3, lanes=2,
              rate=10.0, round_trips=100)  # fmt: skip


async def main(sizes: Sizes) -> dict[str, Any]:
    results: dict[str, Any] = {"sizes": sizes.__dict__}
    async with running_platform() as platform:
        kafka = platform.kafka.bootstrap_servers
        results["raw_round_trip_idle"] = quantiles(await raw_round_trip(kafka, sizes.round_trips))
        prepared = time.perf_counter()
        idle = resident_mib(platform.all_processes())
        async with (
            rss_peaks(platform.all_processes(), every=0.5) as memory,  # light on the prober
            tenants(platform, organisations=sizes.organisations, people=sizes.people) as t,
        ):
            results["preparation_s"] = round(time.perf_counter() - prepared, 1)
            stop = asyncio.Event()
            background = Background(t, sizes.rate)
            loading = asyncio.create_task(background.run(stop))
            try:
                results["raw_round_trip_under_load"] = quantiles(
                    await raw_round_trip(kafka, sizes.round_trips)
                )
                async with EventWatch(
                    kafka, habilitation_events.TOPIC,
                    habilitation_events.HabilitationEnded.event_type, "habilitation_id",
                ) as watch:  # fmt: skip
                    results["revocation"] = (
                        await revocations(
                            t,
                            watch,
                            platform.database_url("declaration"),
                            sizes.revocations,
                            sizes.lanes,
                        )
                    ).summary()
                suspended, reinstated = await suspensions(t, sizes.suspensions)
                results["suspension"] = suspended.summary()
                results["reinstatement"] = reinstated.summary()
                results["rgc_lapse"] = (await rgc_lapses(platform, t.soak, sizes.lapses)).summary()
            finally:
                stop.set()
                await loading
            results["background"] = background.summary()
        results["memory"] = {
            name: {"idle_mib": round(idle.get(name, float("nan")), 1), "peak_mib": round(peak, 1)}
            for name, peak in sorted(memory.peak.items())
        }
    loaded = results["raw_round_trip_under_load"]["p99_ms"]
    results["headline"] = [
        headline(measure, "ms", loaded, results[name]["p99_ms"], goal)
        for name, measure, goal in (
            ("revocation", "revocation 2xx → person refused, p99", "<= 3"),
            ("suspension", "suspension 2xx → OF refused, p99", None),
            ("rgc_lapse", "RGC lapse → known to declaration, p99", None),
        )
    ]
    results["headline"].insert(1, headline(
        "revocation 2xx → applied by declaration, p99", "ms", loaded,
        results["revocation"]["parts"]["applied"]["p99_ms"], "<= 3",
    ))  # fmt: skip
    print(_table(results))
    return results


def _table(results: dict[str, Any]) -> str:
    base = results["raw_round_trip_under_load"]
    idle = results["raw_round_trip_idle"]
    lines = [
        f"background: {results['background']['accepted_per_s']:.1f} declarations/s accepted "
        f"({results['background']['outcomes']})",
        f"{'measure':<26}{'n':>5}{'p50':>9}{'p95':>9}{'p99':>9}{'max':>9}"
        f"{'p99 ratio':>11}{'goal':>7}",
        _row("raw round trip, idle", results["sizes"]["round_trips"], idle),
        _row("raw round trip, loaded", results["sizes"]["round_trips"], base),
    ]
    for name, goal in (("revocation", "≤ 3"), ("suspension", ""), ("rgc_lapse", ""),
                       ("reinstatement", "")):  # fmt: skip
        figures = results[name]
        ratio = figures["p99_ms"] / base["p99_ms"]
        lines.append(_row(name, figures["count"], figures) + f"{ratio:>11.2f}{goal:>7}")
    parts = results["revocation"]["parts"]
    lines.append(
        "revocation, split (ms): "
        + ", ".join(
            f"{name} p50 {parts[name]['p50_ms']:.1f} p99 {parts[name]['p99_ms']:.1f}"
            for name in ("relay", "consumer", "applied")
        )
    )
    lines += [
        f"RSS {name}: idle {sizes['idle_mib']:.0f} MiB, peak {sizes['peak_mib']:.0f} MiB"
        for name, sizes in results["memory"].items()
    ]
    lines.append(
        "probe round trip p50 (ms): "
        + ", ".join(
            f"{name} {results[name]['probe_round_trip_p50_ms']:.1f}"
            for name in ("revocation", "suspension")
        )
    )
    return "\n".join(lines)


def _row(name: str, count: int, figures: dict[str, float]) -> str:
    return (
        f"{name:<26}{count:>5}{figures['p50_ms']:>9.1f}{figures['p95_ms']:>9.1f}"
        f"{figures['p99_ms']:>9.1f}{figures['max_ms']:>9.1f}"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, to try it out")
    args = parser.parse_args()
    outcome = asyncio.run(main(QUICK if args.quick else FULL))
    print(f"results: {write_results('propagation', outcome)}")
