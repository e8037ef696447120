"""The habilitation service's adapters: asyncpg repositories, outbox writer, other I/O."""
