"""Fixtures for every test of the workspace: real Kafka and PostgreSQL (see the plugin), and
one Hypothesis profile: no per-example deadline (this machine is shared and noisy; speed is
measured by the benchmarks, never by tests), printed seeds for reproduction."""

from hypothesis import settings

pytest_plugins = ["kairos_devstack.pytest_plugin"]

settings.register_profile("kairos", deadline=None, print_blob=True)
settings.load_profile("kairos")
