"""Notification throughput: e-mails/s delivered to the SMTP sink from a burst of events, against
raw aiosmtplib sends of the same e-mails to the same sink, measured in the same run.

Run: ``.venv/bin/python bench/notifications.py [--events N] [--quick] [--profile FILE]``
(``--quick``: 200 events, nothing written).

The whole platform runs as real processes (durable PostgreSQL, Kafka, the SMTP sink, the four
services: :mod:`running_platform`). Untimed, one ``AdhesionValidated`` makes an organisation and
its RGC known to the notification service. Then:

- raw: the e-mails the service writes for the burst (its templates and MIME: same size) handed
  to the sink with ``aiosmtplib.send``, a connection per e-mail as the service sends them, as
  many at a time as one notification process sends (``delivery_concurrency``), then twice that
  (two replicas); for reference (500 e-mails) one at a time, and all over one reused connection.
  Throughput = N / (last accepted - start); latency = accepted - start (every e-mail is there
  at the start, as in the burst).
- kairos: N late declarations (``InterruptionDeclared``, version 1, ``late``: one e-mail each,
  to the RGC who declared) produced straight to ``kairos.declaration.v1`` with a raw aiokafka
  producer, in the envelope the declaration service's relay publishes, spread over 48 sessions
  (the partition key). The declaration topic is read by the notification service alone, so
  the burst measures its pipeline (an identity event such as ``AccountCreated`` would also be
  consumed by the habilitation and declaration services, on the same CPUs). Throughput = N /
  (last e-mail received by the sink - first event produced); latency = received by the sink -
  produced, per event (one machine, one clock). Each Message-ID must arrive exactly once.
- scaling: the same burst again with a second notification process in the consumer group.
- CPU: user + system seconds of every process (the notification service, the other services,
  PostgreSQL, Kafka, the sink, this process) over each run, per e-mail, net of what each uses
  idle: a cost that holds whatever else the machine runs, where e-mails/s does not.
- memory: RSS of each service idle, and of the notification process(es) at their peak during
  the burst (sampled every 0.2 s).
- ``--profile FILE``: py-spy samples the notification process during the 1-replica burst
  (folded stacks in FILE, the top functions printed).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import socket
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import aiosmtplib
import asyncpg
import httpx
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from infra import headline, percentile, write_results
from meters import (
    CpuMeter,
    Pids,
    idle_cores,
    profiling,
    resident_mib,
    rss_peaks,
    service_pid,
    summarise_profile,
)
from running_platform import add_replica, running_platform

from kairos_devstack.process_platform import ProcessPlatform
from kairos_notification.adapters.smtp import SmtpMailer, SmtpSettings
from kairos_notification.adapters.templates import TemplateRenderer
from kairos_notification.config import NotificationSettings
from kairos_notification.domain.delivery import OutgoingEmail
from kairos_notification.domain.notifications import NotificationKind
from kairos_schemas import declaration, identity
from kairos_shared import outbox

IDENTITY_SOURCE = "/kairos/identity"  # what each service's outbox stamps on its events
DECLARATION_SOURCE = "/kairos/declaration"
CONSUMER_GROUP = "kairos-notification-mail-declaration"
ZONE = "metropolitan"
LEGAL_NAME = "Organisme de formation du banc d'essai"
RGC_EMAIL = "rgc@of-bench.example"
SESSIONS = 48
POLL = 0.25  # seconds between looks at the sink (its own receive times date the e-mails)
REFERENCE = 500  # e-mails of the raw reference runs (rates only: their latencies grow with N)
DUE_BY = date(2026, 1, 10)
IDLE_SECONDS = 5.0  # how long each part's idle CPU is measured for
PROFILE_RATE = 100  # py-spy samples per second (--profile)


@dataclass(frozen=True)
class Organisation:
    id: str
    rgc_account_id: str
    legal_name: str = LEGAL_NAME
    rgc_name: str = "Claude Petit"


@dataclass
class Delivered:
    """What the sink received for a set of Message-IDs."""

    at: dict[str, float] = field(default_factory=dict)
    """Message-ID -> when the sink received it (epoch seconds), first delivery."""
    copies: Counter[str] = field(default_factory=Counter)
    sizes: list[int] = field(default_factory=list)


class Sink:
    """The SMTP sink's HTTP API (a subset of Mailpit's)."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def total(self) -> int:
        response = await self.client.get("/api/v1/messages", params={"limit": 0})
        response.raise_for_status()
        return int(response.json()["total"])

    async def wait_total(self, target: int, timeout: float) -> None:
        async with asyncio.timeout(timeout):
            while await self.total() < target:  # noqa: ASYNC110 - polling another process's API
                await asyncio.sleep(POLL)

    async def newest(self, count: int) -> list[dict[str, Any]]:
        response = await self.client.get("/api/v1/messages", params={"limit": count})
        response.raise_for_status()
        messages: list[dict[str, Any]] = response.json()["messages"]
        return messages

    async def delivered(self, count: int, message_ids: set[str]) -> Delivered:
        """Of the newest ``count`` messages, those whose Message-ID is in ``message_ids``."""
        found = Delivered()
        for message in await self.newest(count):
            message_id = str(message["MessageID"]).strip("<>")
            if message_id not in message_ids:
                continue
            found.copies[message_id] += 1
            found.sizes.append(int(message["Size"]))
            at = datetime.fromisoformat(message["Created"]).timestamp()
            found.at[message_id] = min(at, found.at.get(message_id, at))
        return found


# --- events ------------------------------------------------------------------------------------


def _adhesion(organisation: Organisation, now: datetime) -> identity.AdhesionValidated:
    return identity.AdhesionValidated(
        organisation_id=organisation.id, siret="12345678901234", legal_name=organisation.legal_name,
        zone=ZONE,
        head=identity.HeadOfOrganisation(
            first_name="Dominique", last_name="Bernard", email="direction@of-bench.example",
            function="Directrice",
        ),
        rgc=identity.Person(first_name="Claude", last_name="Petit", email=RGC_EMAIL),
        rgc_account_id=organisation.rgc_account_id, validated_at=now,
        validated_by=str(uuid.uuid4()), access_expires_at=now + timedelta(days=3 * 365),
    )  # fmt: skip


def _session(index: int) -> declaration.TrainingSession:
    """One of the organisation's sessions (the partition key: spread over all partitions)."""
    return declaration.TrainingSession(
        action_number=f"AC-{index % SESSIONS:04d}", session_number=f"S-{index % SESSIONS:04d}"
    )


def _late_declaration(
    organisation: Organisation, index: int, now: datetime
) -> declaration.InterruptionDeclared:
    """An interruption declared by the RGC after its deadline: one e-mail, to the RGC."""
    return declaration.InterruptionDeclared(
        declaration_id=str(uuid.uuid4()), version=1, organisation_id=organisation.id,
        session=_session(index), declared_by=organisation.rgc_account_id, declared_at=now,
        due_by=DUE_BY, late=True, starts_on=DUE_BY, ends_on=DUE_BY + timedelta(days=5),
        reason="Fermeture exceptionnelle des locaux",
    )  # fmt: skip


def _burst(organisation: Organisation, count: int) -> list[outbox.OutboxMessage]:
    now = datetime.now(UTC)
    return [
        outbox.outbox_message(_late_declaration(organisation, i, now), source=DECLARATION_SOURCE)
        for i in range(count)
    ]


async def _produce(
    producer: AIOKafkaProducer, messages: list[outbox.OutboxMessage]
) -> dict[str, float]:
    """Send every record (not waiting for each), then wait for all; event id -> send time."""
    sent_at: dict[str, float] = {}
    pending = []
    for message in messages:
        sent_at[message.event_id] = time.time()
        pending.append(
            await producer.send(
                message.topic, value=message.value, key=message.key, headers=list(message.headers)
            )
        )
    await asyncio.gather(*pending)
    return sent_at


async def prepare_organisation(producer: AIOKafkaProducer, sink: Sink) -> Organisation:
    """An organisation the notification service knows (its adhesion: two e-mails, awaited)."""
    organisation = Organisation(str(uuid.uuid4()), str(uuid.uuid4()))
    before = await sink.total()
    await _produce(
        producer,
        [outbox.outbox_message(_adhesion(organisation, datetime.now(UTC)), source=IDENTITY_SOURCE)],
    )
    await sink.wait_total(before + 2, timeout=60)
    return organisation


# --- raw baseline ------------------------------------------------------------------------------


def _emails(organisation: Organisation, count: int, port: int) -> list[EmailMessage]:
    """The e-mails the service writes for the burst's events: its templates and its MIME."""
    renderer = TemplateRenderer()
    mailer = SmtpMailer(SmtpSettings(host="127.0.0.1", port=port))
    now = datetime.now(UTC)
    emails = []
    for index in range(count):
        event = _late_declaration(organisation, index, now)
        rendered = renderer.render(
            NotificationKind.DECLARATION_LATE,
            {"recipient_name": organisation.rgc_name, "organisation_name": organisation.legal_name,
             "zone": ZONE, "declaration_kind": event.kind,
             "action_number": event.session.action_number,
             "session_number": event.session.session_number, "due_on": event.due_by,
             "declared_at": event.declared_at},
        )  # fmt: skip
        outgoing = OutgoingEmail(
            notification_id=uuid.uuid4(), recipient_email=RGC_EMAIL,
            recipient_name=organisation.rgc_name, subject=rendered.subject,
            text_body=rendered.text, html_body=rendered.html, date=now,
        )  # fmt: skip
        emails.append(mailer.compose(outgoing))
    return emails


async def raw_sends(port: int, emails: list[EmailMessage], concurrency: int) -> dict[str, float]:
    """``aiosmtplib.send`` (a connection per e-mail, as the service sends), ``concurrency`` at a
    time; the EHLO name looked up once (as the service does)."""
    queue = list(reversed(emails))
    done: list[float] = []
    local_hostname = socket.getfqdn()

    async def sender() -> None:
        while queue:
            email = queue.pop()
            await aiosmtplib.send(
                email, hostname="127.0.0.1", port=port, timeout=30, local_hostname=local_hostname
            )
            done.append(time.time())

    started = time.time()
    await asyncio.gather(*(sender() for _ in range(concurrency)))
    return {**_figures(len(emails), started, done), "concurrency": concurrency}


async def raw_one_connection(port: int, emails: list[EmailMessage]) -> dict[str, float]:
    """Every e-mail over one SMTP connection (``send_message`` repeated), one at a time."""
    done: list[float] = []
    started = time.time()
    async with aiosmtplib.SMTP(hostname="127.0.0.1", port=port, timeout=30) as smtp:
        for email in emails:
            await smtp.send_message(email)
            done.append(time.time())
    return _figures(len(emails), started, done)


def _figures(count: int, started: float, done: list[float]) -> dict[str, float]:
    latencies = [(at - started) * 1000 for at in done]
    elapsed = max(done) - started
    return {
        "emails": count,
        "seconds": elapsed,
        "emails_per_s": count / elapsed,
        "latency_p50_ms": percentile(latencies, 50),
        "latency_p99_ms": percentile(latencies, 99),
    }


# --- the platform's burst ----------------------------------------------------------------------


def cpu_groups(platform: ProcessPlatform) -> dict[str, Pids]:
    """The parts of the platform whose CPU is told apart, each process with its descendants."""

    def pids(names: list[str]) -> Pids:
        return Pids([service_pid(p) for name in names for p in platform.services[name]], tree=True)

    assert platform.postgres.process is not None
    assert platform.smtp.process is not None
    return {
        "notification": pids(["notification"]),
        "other services": pids(["identity", "habilitation", "declaration"]),
        "postgres": Pids([platform.postgres.process.pid], tree=True),
        "kafka": Pids([process.pid for process in platform.kafka.processes.values()], tree=True),
        "smtp sink": Pids([platform.smtp.process.pid], tree=True),
    }


BENCH = Pids([os.getpid()])
"""This process: what it spends producing the events and polling the sink is the load's."""


def per_email_ms(
    cpu: CpuMeter, count: int, *, net: bool = False, outside: str | None = None
) -> dict[str, float]:
    """CPU ms per e-mail of each part (none below 0), and their total but for part ``outside``;
    ``net``: less what the part would have used idle over the same time."""
    per = {name: max(0.0, ms) for name, ms in cpu.per_item_ms(count, net=net).items()}
    return {**per, "total": sum(ms for name, ms in per.items() if name != outside)}


async def _wait_group(kafka: str, group: str, members: int, timeout: float = 90.0) -> None:
    """Until consumer group ``group`` is Stable with ``members`` members (rebalance over)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka)
    await admin.start()
    try:
        async with asyncio.timeout(timeout):
            while True:
                responses = await admin.describe_consumer_groups([group])
                # DescribeGroups v0: (error_code, group_id, state, protocol_type, protocol, members)
                described = responses[0].groups[0]
                if described[2] == "Stable" and len(described[5]) == members:
                    return
                await asyncio.sleep(0.5)
    finally:
        await admin.close()


async def kairos_burst(
    platform: ProcessPlatform,
    producer: AIOKafkaProducer,
    sink: Sink,
    organisation: Organisation,
    count: int,
    *,
    idle: dict[str, float],
    profile: Path | None = None,
) -> dict[str, Any]:
    """N events that call for one e-mail each, produced at once; figures as the sink saw them."""
    messages = _burst(organisation, count)
    processes = platform.services["notification"]
    before = await sink.total()
    cpu = CpuMeter(cpu_groups(platform) | {"bench": BENCH}, idle)
    async with (
        profiling(service_pid(processes[0]), profile, rate=PROFILE_RATE, gil=True),
        rss_peaks(processes) as rss,
    ):
        with cpu.measuring():
            started = time.time()
            sent_at = await _produce(producer, messages)
            await sink.wait_total(before + count, timeout=max(180.0, count / 5))
            waited = time.time() - started
    profiled = None if profile is None else summarise_profile(profile, waited, PROFILE_RATE)
    # Which notification (Message-ID) each event caused, and when the service queued and sent it.
    connection = await asyncpg.connect(platform.database_url("notification"))
    try:
        rows = await connection.fetch(
            "SELECT id, trigger_event_id, created_at, sent_at FROM notification"
            " WHERE trigger_event_id = ANY($1::text[])",
            list(sent_at),
        )
    finally:
        await connection.close()
    domain = SmtpSettings().message_id_domain
    trigger = {f"{row['id']}@{domain}": row["trigger_event_id"] for row in rows}
    delivered = await sink.delivered(count + 100, set(trigger))
    if len(rows) < count or len(delivered.at) < count:  # the sink also got other mail: wait
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(30):
                while len(delivered.at) < count:
                    await asyncio.sleep(0.5)
                    delivered = await sink.delivered(count + 100, set(trigger))
    latencies = [(at - sent_at[trigger[mid]]) * 1000 for mid, at in delivered.at.items()]
    last = max(delivered.at.values())
    queued_span = _span([row["created_at"] for row in rows])
    sent_span = _span([row["sent_at"] for row in rows if row["sent_at"] is not None])
    return {
        "events": count,
        "replicas": len(processes),
        "seconds": last - started,
        "emails_per_s": len(delivered.at) / (last - started),
        "latency_p50_ms": percentile(latencies, 50),
        "latency_p99_ms": percentile(latencies, 99),
        "produce_seconds": max(sent_at.values()) - started,
        # service clock (may be offset from ours): only spans between its own stamps
        "queued_per_s": len(rows) / queued_span if queued_span else float("nan"),
        "sent_per_s": len(delivered.at) / sent_span if sent_span else float("nan"),
        "notifications": len(rows),
        "delivered": len(delivered.at),
        "missing": count - len(delivered.at),
        "duplicates": sum(n - 1 for n in delivered.copies.values()),
        "email_bytes_mean": sum(delivered.sizes) / max(1, len(delivered.sizes)),
        # "bench" (producing the events, polling the sink) is the load, not the platform
        "cpu_ms_per_email": per_email_ms(cpu, count, outside="bench"),
        "cpu_ms_per_email_net_of_idle": per_email_ms(cpu, count, net=True, outside="bench"),
        "cpu_cores": cpu.cores(),
        "rss_peak_mib": dict(rss.peak),
        "rss_peak_total_mib": rss.total,
        "profile": profiled,
    }


def _span(stamps: list[datetime]) -> float:
    return (max(stamps) - min(stamps)).total_seconds() if len(stamps) > 1 else 0.0


async def _settle(seconds: float) -> None:
    """Let the services finish what the previous phase left (relays, deliveries)."""
    await asyncio.sleep(seconds)


def service_concurrency() -> int:
    """E-mails one notification process sends at once (its setting, as the platform runs it)."""
    return NotificationSettings().delivery_concurrency


async def _measure_raw(
    port: int, emails: list[EmailMessage], sink: Sink, concurrency: int, sink_pid: int
) -> dict[str, dict[str, Any]]:
    runs: list[tuple[str, Callable[[], Awaitable[dict[str, float]]]]] = [
        ("raw_1_replica", lambda: raw_sends(port, emails, concurrency)),
        ("raw_2_replicas", lambda: raw_sends(port, emails, 2 * concurrency)),
        ("raw_one_at_a_time", lambda: raw_sends(port, emails[:REFERENCE], 1)),
        ("raw_one_connection", lambda: raw_one_connection(port, emails[:REFERENCE])),
    ]
    results: dict[str, dict[str, Any]] = {}
    cpu = CpuMeter({"smtp sink": Pids([sink_pid], tree=True), "bench": BENCH})
    for name, run in runs:
        before = await sink.total()
        with cpu.measuring():
            results[name] = await run()
        sent = int(results[name]["emails"])
        assert await sink.total() == before + sent, f"{name}: the sink missed e-mails"
        results[name]["cpu_ms_per_email"] = per_email_ms(cpu, sent)
    sizes = [int(m["Size"]) for m in await sink.newest(min(REFERENCE, len(emails)))]
    results["raw_1_replica"]["email_bytes_mean"] = sum(sizes) / len(sizes)
    return results


async def main(count: int, profile: Path | None) -> dict[str, Any]:
    async with (
        running_platform() as platform,
        httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{platform.smtp.http_port}", timeout=60.0
        ) as client,
    ):
        sink = Sink(client)
        producer = AIOKafkaProducer(
            bootstrap_servers=platform.kafka.bootstrap_servers.split(","),
            enable_idempotence=True, acks="all", client_id="bench-producer",
        )  # fmt: skip
        await producer.start()
        try:
            organisation = await prepare_organisation(producer, sink)
            await _wait_group(platform.kafka.bootstrap_servers, CONSUMER_GROUP, 1)
            results: dict[str, Any] = {
                "idle_rss_mib": resident_mib(platform.all_processes()),
                "idle_cpu_cores": await idle_cores(cpu_groups(platform), IDLE_SECONDS),
            }
            emails = _emails(organisation, count, platform.smtp.smtp_port)
            concurrency = service_concurrency()
            results["service_delivery_concurrency"] = concurrency
            assert platform.smtp.process is not None
            sink_pid = platform.smtp.process.pid
            results.update(
                await _measure_raw(platform.smtp.smtp_port, emails, sink, concurrency, sink_pid)
            )
            results["kairos_1"] = await kairos_burst(
                platform, producer, sink, organisation, count,
                idle=results["idle_cpu_cores"], profile=profile,
            )  # fmt: skip
            await _settle(3.0)
            await add_replica(platform, "notification")
            await _wait_group(platform.kafka.bootstrap_servers, CONSUMER_GROUP, 2)
            results["idle_rss_2_replicas_mib"] = resident_mib(platform.services["notification"])
            results["idle_cpu_cores_2_replicas"] = await idle_cores(
                cpu_groups(platform), IDLE_SECONDS
            )
            results["kairos_2"] = await kairos_burst(
                platform, producer, sink, organisation, count,
                idle=results["idle_cpu_cores_2_replicas"],
            )  # fmt: skip
        finally:
            await producer.stop()
    results["headline"] = headlines(results)
    print(
        f"notifications: burst of {count} late declarations (InterruptionDeclared) "
        f"-> {count} e-mails"
    )
    print(_table(results))
    for run in ("kairos_1", "kairos_2"):
        figures = results[run]
        print(
            f"{run}: {figures['delivered']}/{figures['events']} delivered, "
            f"{figures['duplicates']} duplicates; queued {figures['queued_per_s']:.0f}/s, "
            f"sent {figures['sent_per_s']:.0f}/s (service's own stamps); "
            f"{figures['email_bytes_mean']:.0f} B/e-mail "
            f"(raw {results['raw_1_replica']['email_bytes_mean']:.0f})"
        )
    if results["kairos_1"]["profile"] is not None:
        _print_profile(results["kairos_1"]["profile"])
    return results


def headlines(results: dict[str, Any]) -> list[dict[str, Any]]:
    """``make bench``'s summary lines: e-mails/s against raw aiosmtplib, 1 and 2 replicas."""
    return [
        headline(f"e-mails/s, {n} replica(s)", "e-mails/s",
                 results[f"raw_{n}_replica{'s' if n > 1 else ''}"]["emails_per_s"],
                 results[f"kairos_{n}"]["emails_per_s"])
        for n in (1, 2)
    ]  # fmt: skip


def _table(results: dict[str, Any]) -> str:
    raw1, raw2, one, two = (
        results["raw_1_replica"], results["raw_2_replicas"],
        results["kairos_1"], results["kairos_2"],
    )  # fmt: skip
    concurrency = results["service_delivery_concurrency"]
    rows: list[tuple[str, float | None, float]] = [
        ("e-mails/s, 1 replica", raw1["emails_per_s"], one["emails_per_s"]),
        ("e-mails/s, 2 replicas", raw2["emails_per_s"], two["emails_per_s"]),
        ("latency p50 (ms), 1 replica", raw1["latency_p50_ms"], one["latency_p50_ms"]),
        ("latency p99 (ms), 1 replica", raw1["latency_p99_ms"], one["latency_p99_ms"]),
        ("latency p50 (ms), 2 replicas", raw2["latency_p50_ms"], two["latency_p50_ms"]),
        ("latency p99 (ms), 2 replicas", raw2["latency_p99_ms"], two["latency_p99_ms"]),
        ("throughput 2 replicas / 1", raw2["emails_per_s"] / raw1["emails_per_s"],
         two["emails_per_s"] / one["emails_per_s"]),
        ("CPU ms per e-mail (net of idle), 1 replica", raw1["cpu_ms_per_email"]["total"],
         one["cpu_ms_per_email_net_of_idle"]["total"]),
        ("CPU ms per e-mail (net of idle), 2 replicas", raw2["cpu_ms_per_email"]["total"],
         two["cpu_ms_per_email_net_of_idle"]["total"]),
        ("RSS notification idle (MiB)", None, results["idle_rss_mib"]["notification-1"]),
        ("RSS notification peak, 1 replica (MiB)", None, one["rss_peak_total_mib"]),
        ("RSS notification peak, 2 replicas, sum (MiB)", None, two["rss_peak_total_mib"]),
    ]  # fmt: skip
    lines = [
        f"raw: aiosmtplib.send {concurrency} at a time per replica (the service's delivery "
        f"concurrency), a connection per e-mail",
        f"{'measure':<46}{'raw baseline':>14}{'kairos':>10}{'ratio':>8}",
    ]
    for name, base, ours in rows:
        if base is None:
            lines.append(f"{name:<46}{'-':>14}{ours:>10.1f}{'-':>8}")
        else:
            lines.append(f"{name:<46}{base:>14.1f}{ours:>10.1f}{ours / base:>8.2f}")
    lines.append("raw references:")
    for name in ("raw_one_at_a_time", "raw_one_connection"):
        figures = results[name]
        lines.append(
            f"  {name:<44}{figures['emails_per_s']:>14.1f} e-mails/s, "
            f"p99 {figures['latency_p99_ms']:.0f} ms, "
            f"{figures['cpu_ms_per_email']['total']:.1f} CPU ms/e-mail"
        )
    for run, key in (
        ("raw_1_replica", "cpu_ms_per_email"),
        ("kairos_1", "cpu_ms_per_email_net_of_idle"),
        ("kairos_2", "cpu_ms_per_email_net_of_idle"),
    ):
        parts = results[run][key]
        split = ", ".join(f"{name} {ms:.1f}" for name, ms in parts.items())
        label = " (net of idle; bench not in total)" if "net" in key else ""
        lines.append(f"CPU ms per e-mail, {run}{label}: {split}")
    idle_cpu = ", ".join(f"{name} {c:.0%}" for name, c in results["idle_cpu_cores"].items())
    lines.append(f"idle CPU (share of one core): {idle_cpu}")
    idle = ", ".join(f"{name} {mib:.0f}" for name, mib in results["idle_rss_mib"].items())
    lines.append(f"idle RSS (MiB): {idle}")
    return "\n".join(lines)


def _print_profile(profile: dict[str, Any]) -> None:
    print(
        f"profile of notification-1 during the burst: {profile['samples']} samples holding the GIL "
        f"(~{profile['cpu_share_of_one_core']:.0%} of one core), {profile['idle_samples']} waiting"
    )
    for title, key in (("self", "self_pct"), ("total (in stack)", "total_pct")):
        print(f"  top functions, {title}:")
        for name, pct in profile[key].items():
            print(f"    {pct:5.1f}%  {name}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, help="burst size (default 1000, --quick 200)")
    parser.add_argument("--quick", action="store_true", help="try out: small, nothing written")
    parser.add_argument("--profile", type=Path, help="py-spy folded stacks of the 1-replica run")
    args = parser.parse_args()
    events = args.events or (200 if args.quick else 1000)
    results = asyncio.run(main(events, args.profile))
    if args.quick:
        print("results not written (--quick)")
    else:
        print(f"results: {write_results('notifications', results)}")
