"""The Kafka security settings: validated at start, and turned into the same connection
arguments for aiokafka and FastStream (kairos_shared.kafka). PLAINTEXT, the default, adds
nothing. (tests/security/test_kafka_sasl_acls.py uses them against a real broker.)"""

from __future__ import annotations

import ssl
import subprocess
from pathlib import Path
from typing import Any

import pytest
from faststream.kafka.security import parse_security
from pydantic import ValidationError

from kairos_shared.kafka import broker_security, kafka_client_options
from kairos_shared.kafka_settings import KafkaSecuritySettings

VARIABLES = (
    "KAIROS_KAFKA_SECURITY_PROTOCOL",
    "KAIROS_KAFKA_SASL_MECHANISM",
    "KAIROS_KAFKA_SASL_USERNAME",
    "KAIROS_KAFKA_SASL_PASSWORD",
    "KAIROS_KAFKA_SSL_CA_FILE",
    "KAIROS_KAFKA_SSL_CERT_FILE",
    "KAIROS_KAFKA_SSL_KEY_FILE",
    "KAIROS_KAFKA_SSL_KEY_PASSWORD",
)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in VARIABLES:
        monkeypatch.delenv(variable, raising=False)


@pytest.fixture(scope="module")
def ca_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("kafka-ca")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key",
         "-out", "ca.pem", "-days", "1", "-subj", "/CN=kairos-test-ca"],
        cwd=folder, check=True, capture_output=True,
    )  # fmt: skip
    return folder / "ca.pem"


def _settings(monkeypatch: pytest.MonkeyPatch, **variables: str) -> KafkaSecuritySettings:
    for name, value in variables.items():
        monkeypatch.setenv(f"KAIROS_KAFKA_{name.upper()}", value)
    return KafkaSecuritySettings()


def test_plaintext_is_the_default_and_adds_nothing() -> None:
    settings = KafkaSecuritySettings()
    assert settings.kafka_security_protocol == "PLAINTEXT"
    assert kafka_client_options(settings) == {}
    assert kafka_client_options(None) == {}
    assert broker_security(settings) is None


def test_sasl_plaintext_gives_the_scram_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = _settings(
        monkeypatch, security_protocol="SASL_PLAINTEXT", sasl_username="kairos-identity",
        sasl_password="s3cret",
    )  # fmt: skip
    assert kafka_client_options(settings) == {
        "security_protocol": "SASL_PLAINTEXT",
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": "kairos-identity",
        "sasl_plain_password": "s3cret",
    }
    assert "s3cret" not in repr(settings)


def test_sasl_ssl_verifies_the_brokers_against_the_configured_ca(
    monkeypatch: pytest.MonkeyPatch, ca_file: Path
) -> None:
    settings = _settings(
        monkeypatch, security_protocol="SASL_SSL", sasl_username="u", sasl_password="p",
        sasl_mechanism="SCRAM-SHA-256", ssl_ca_file=str(ca_file),
    )  # fmt: skip
    options = kafka_client_options(settings)
    context = options.pop("ssl_context")
    assert isinstance(context, ssl.SSLContext)
    assert context.check_hostname
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert [cert["subject"] for cert in context.get_ca_certs()] == [
        ((("commonName", "kairos-test-ca"),),)
    ]
    assert options == {
        "security_protocol": "SASL_SSL",
        "sasl_mechanism": "SCRAM-SHA-256",
        "sasl_plain_username": "u",
        "sasl_plain_password": "p",
    }


@pytest.mark.parametrize(
    "variables",
    [
        {"security_protocol": "SASL_PLAINTEXT", "sasl_username": "u", "sasl_password": "p"},
        {"security_protocol": "SASL_SSL", "sasl_username": "u", "sasl_password": "p"},
        {"security_protocol": "SSL"},
    ],
    ids=["sasl_plaintext", "sasl_ssl", "ssl"],
)
def test_faststream_gets_the_same_arguments(
    monkeypatch: pytest.MonkeyPatch, variables: dict[str, str]
) -> None:
    settings = _settings(monkeypatch, **variables)
    expected = kafka_client_options(settings)
    given: dict[str, Any] = parse_security(broker_security(settings))
    if "ssl_context" in expected:
        assert isinstance(given.pop("ssl_context"), ssl.SSLContext)
        expected.pop("ssl_context")
    else:
        assert given.pop("ssl_context") is None
    assert given == expected


@pytest.mark.parametrize(
    ("variables", "variable", "message"),
    [
        ({"security_protocol": "SASL_SSL", "sasl_password": "p"}, "sasl_username", "required"),
        (
            {"security_protocol": "SASL_PLAINTEXT", "sasl_username": "u"},
            "sasl_password",
            "required",
        ),
        ({"sasl_username": "u"}, "sasl_username", "does not authenticate with SASL"),
        (
            {"security_protocol": "SSL", "sasl_password": "p"},
            "sasl_password",
            "does not authenticate",
        ),
        (
            {
                "security_protocol": "SASL_PLAINTEXT",
                "sasl_username": "u",
                "sasl_password": "p",
                "ssl_ca_file": "/etc/hosts",
            },
            "ssl_ca_file",
            "does not use TLS",
        ),
        (
            {"security_protocol": "SSL", "ssl_ca_file": "/nonexistent/ca.pem"},
            "ssl_ca_file",
            "not a readable file",
        ),
        (
            {"security_protocol": "SSL", "ssl_key_file": "/etc/hosts"},
            "ssl_key_file",
            "without KAIROS_KAFKA_SSL_CERT_FILE",
        ),
        ({"security_protocol": "TLS"}, "security_protocol", "PLAINTEXT"),
        ({"sasl_mechanism": "PLAIN"}, "sasl_mechanism", "SCRAM-SHA-512"),
    ],
)
def test_a_setting_that_cannot_work_stops_the_service(
    monkeypatch: pytest.MonkeyPatch, variables: dict[str, str], variable: str, message: str
) -> None:
    with pytest.raises(ValidationError) as raised:
        _settings(monkeypatch, **variables)
    (error,) = raised.value.errors()
    assert error["loc"][0] in {f"kafka_{variable}", f"KAIROS_KAFKA_{variable.upper()}"}
    assert message in error["msg"]


def test_an_empty_variable_is_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = _settings(monkeypatch, sasl_username="", sasl_password="", ssl_ca_file="")
    assert settings.kafka_sasl_username is None
    assert settings.kafka_sasl_password is None
    assert settings.kafka_ssl_ca_file is None
