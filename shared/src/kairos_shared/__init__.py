"""Infrastructure shared by the Kairos services: no business rule lives here.

- :mod:`.settings` — the settings every service has (Kafka, PostgreSQL, HTTP, logging);
- :mod:`.logging` — structlog JSON logging, configured once, secrets redacted;
- :mod:`.db` — the asyncpg pool; :mod:`.migrations` — versioned SQL migrations;
- :mod:`.kafka` — the FastStream Kafka broker factory;
- :mod:`.health` — liveness and readiness endpoints;
- :mod:`.runtime` — the FastAPI + FastStream process a service runs as;
- :mod:`.outbox`, :mod:`.relay` — the transactional outbox and its relay to Kafka;
- :mod:`.inbox`, :mod:`.subscriber`, :mod:`.messaging` — idempotent consumers and their wiring;
- :mod:`.dead_letters` — parking and replaying messages that keep failing;
- :mod:`.correlation` — correlation ids over HTTP and Kafka; :mod:`.clock` — injected time;
- :mod:`.tokens` — EdDSA access tokens and their offline validation;
- :mod:`.problems` — RFC 9457 errors naming each bad field;
- :mod:`.zones`, :mod:`.access_hours` — the organisations' zones and opening hours (K4).
"""
