"""Infrastructure shared by the Kairos services: no business rule lives here.

- :mod:`.settings` — the settings every service has (Kafka, PostgreSQL, HTTP, logging);
- :mod:`.logging` — structlog JSON logging, configured once, secrets redacted;
- :mod:`.db` — the asyncpg pool; :mod:`.migrations` — versioned SQL migrations;
- :mod:`.kafka` — the FastStream Kafka broker factory;
- :mod:`.health` — liveness and readiness endpoints;
- :mod:`.runtime` — the FastAPI + FastStream process a service runs as.
"""
