"""The declaration service's adapters: asyncpg repositories, outbox writer, other I/O."""
