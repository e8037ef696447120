"""Fixtures for every test of the workspace: real Kafka and PostgreSQL (see the plugin)."""

pytest_plugins = ["kairos_devstack.pytest_plugin"]
