"""``kairos config``: every service's settings as the service reads them, secrets masked."""

from __future__ import annotations

import json

import pytest
from pydantic import SecretStr
from typer.testing import CliRunner

from kairos_cli.configuration import display_value
from kairos_cli.main import app

DB_PASSWORD = "Sup3r-S3cret-db"
SMTP_PASSWORD = "smtp-Pa55-w0rd"
KEY_BODY = "MC4CAQAwBQYDK2VwBCIEIKeyMaterialThatMustNotLeak"
ENV = {
    "KAIROS_IDENTITY_DATABASE_URL": f"postgresql://kairos:{DB_PASSWORD}@db.internal:5432/identity",
    "KAIROS_NOTIFICATION_SMTP_PASSWORD": SMTP_PASSWORD,
    "KAIROS_NOTIFICATION_SMTP_USERNAME": "mailer",
    "KAIROS_IDENTITY_SIGNING_KEY_PEM": (
        f"-----BEGIN PRIVATE KEY-----\n{KEY_BODY}\n-----END PRIVATE KEY-----\n"
    ),
    "KAIROS_HABILITATION_CONSUMER_GROUP_PREFIX": "blue",
}


@pytest.mark.parametrize("as_json", [False, True])
def test_config_masks_every_secret_and_names_each_variable(as_json: bool) -> None:
    result = CliRunner().invoke(app, ["config", *(["--json"] if as_json else [])], env=ENV)

    assert result.exit_code == 0, result.output
    for secret in (DB_PASSWORD, SMTP_PASSWORD, KEY_BODY):
        assert secret not in result.output
    assert "postgresql://kairos:***@db.internal:5432/identity" in result.output
    assert "http://127.0.0.1:8001/.well-known/jwks.json" in result.output  # public: shown
    for variable in (
        "KAIROS_IDENTITY_DATABASE_URL", "KAIROS_NOTIFICATION_SMTP_PASSWORD",
        "KAIROS_KAFKA_BOOTSTRAP_SERVERS", "KAIROS_JWKS_URL", "KAIROS_DECLARATION_PAGE_SIZE_MAX",
    ):  # fmt: skip
        assert variable in result.output
    if as_json:
        described = json.loads(result.stdout)
        assert set(described) == {"identity", "habilitation", "declaration", "notification"}
        smtp = {e["setting"]: e for e in described["notification"]}
        assert smtp["smtp_password"] == {
            "setting": "smtp_password", "env": "KAIROS_NOTIFICATION_SMTP_PASSWORD",
            "value": "***", "source": "env",
        }  # fmt: skip
        assert smtp["smtp_username"]["value"] == "mailer"
        assert smtp["smtp_port"] == {
            "setting": "smtp_port", "env": "KAIROS_NOTIFICATION_SMTP_PORT", "value": 1025,
            "source": "default",
        }  # fmt: skip
        habilitation = {e["setting"]: e for e in described["habilitation"]}
        assert habilitation["consumer_group_prefix"]["value"] == "blue"
        identity = {e["setting"]: e for e in described["identity"]}
        assert identity["signing_key_pem"]["value"] == "***"


def test_one_service_only() -> None:
    result = CliRunner().invoke(app, ["config", "declaration"], env=ENV)

    assert result.exit_code == 0, result.output
    assert "KAIROS_DECLARATION_DATABASE_URL" in result.stdout
    assert "KAIROS_IDENTITY_DATABASE_URL" not in result.stdout


def test_invalid_settings_name_the_variable_without_leaking_secrets() -> None:
    result = CliRunner().invoke(
        app, ["config", "identity"], env={**ENV, "KAIROS_IDENTITY_HTTP_PORT": "eighty"}
    )

    assert result.exit_code == 1
    assert "KAIROS_IDENTITY_HTTP_PORT" in result.stderr
    assert DB_PASSWORD not in result.output


def test_an_unknown_service_is_refused() -> None:
    result = CliRunner().invoke(app, ["config", "billing"])

    assert result.exit_code == 2
    assert "unknown service 'billing'" in result.stderr


@pytest.mark.parametrize(
    ("name", "value", "shown"),
    [
        ("api_token", "abc123", "***"),
        ("client_secret", "abc123", "***"),
        ("private_key", SecretStr("k"), "***"),
        ("smtp_password", None, None),
        ("broker_url", "amqp://user:pw@rabbit:5672/", "amqp://user:***@rabbit:5672/"),
        ("webhook_token_url", "https://hooks.example/x?token=abc", "https://hooks.example/x?***"),
        ("identity_jwks_url", "https://id.example/.well-known/jwks.json",
         "https://id.example/.well-known/jwks.json"),
        ("database_url", SecretStr("postgresql://postgres@db/x"), "postgresql://postgres@db/x"),
        ("monkey_count", 3, 3),
        ("expiry_notice_days", (90, 30), [90, 30]),
    ],
)  # fmt: skip
def test_display_value(name: str, value: object, shown: object) -> None:
    assert display_value(name, value) == shown
