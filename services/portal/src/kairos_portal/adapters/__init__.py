"""The portal's outside world: the four services' HTTP APIs and its own PostgreSQL."""
