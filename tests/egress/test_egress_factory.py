"""Egress as each runtime's adapters build it (chalicelib.wiring with AwsAdapters or LocalAdapters),
and the whole TwitterSecret document."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer
from botlocal.adapters import LOCAL_ADAPTERS
from botlocal.idempotency import SqlitePersistenceLayer
from botlocal.layout import LocalLayout
from botlocal.outbox import OutboxPoster
from chalicelib import wiring
from chalicelib.adapters.idempotency import PowertoolsIdempotency
from chalicelib.adapters.secrets import SecretsManagerCredentials
from chalicelib.adapters.x_api import XApiReplyPoster
from chalicelib.egress.service import EgressService
from chalicelib.kernel.errors import ConfigurationError
from moto import mock_aws

SECRET = {
    "ApiKey": "key",
    "ApiSecret": "consumer-SECRET",
    "AccessToken": "token",
    "AccessTokenSecret": "token-SECRET",
}
LOCAL_VARIABLES = {
    "TWITTER_API_KEY": "key",
    "TWITTER_API_SECRET": "consumer-SECRET",
    "TWITTER_ACCESS_TOKEN": "token",
    "TWITTER_ACCESS_TOKEN_SECRET": "token-SECRET",
}


@pytest.fixture
def local_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setenv("BOT_ADAPTERS", LOCAL_ADAPTERS)
    monkeypatch.setenv("BOT_LOCAL_DIR", str(tmp_path))
    monkeypatch.delenv("BOT_EGRESS", raising=False)
    for variable in LOCAL_VARIABLES:
        monkeypatch.delenv(variable, raising=False)
    return tmp_path


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("BOT_ADAPTERS", raising=False)
    monkeypatch.setenv("IDEMPOTENCY_TABLE", "idempotency")
    monkeypatch.setenv("MEDIA_BUCKET", "media")
    monkeypatch.delenv("BOT_EGRESS", raising=False)
    from aws_lambda_powertools.utilities import parameters

    parameters.clear_caches()  # type: ignore[no-untyped-call]
    with mock_aws():
        boto3.client("secretsmanager", region_name="us-east-1").create_secret(
            Name="TwitterSecret", SecretString=json.dumps(SECRET)
        )
        yield
    parameters.clear_caches()  # type: ignore[no-untyped-call]


def parts(service: EgressService) -> tuple[object, object]:
    idempotency = service._idempotency
    assert isinstance(idempotency, PowertoolsIdempotency)
    return service._poster, idempotency.persistence


def test_local_default_is_the_outbox_with_sqlite(local_env: Path) -> None:
    poster, persistence = parts(wiring.egress_service())
    assert isinstance(poster, OutboxPoster)
    layout = LocalLayout(local_env.resolve())
    assert (poster.path, poster.images_dir) == (layout.outbox, layout.outbox_images)
    assert isinstance(persistence, SqlitePersistenceLayer)
    assert persistence.path.parent == local_env.resolve()


def test_local_with_bot_egress_x_posts_for_real(local_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOT_EGRESS", "x")
    for variable, value in LOCAL_VARIABLES.items():
        monkeypatch.setenv(variable, value)
    poster, persistence = parts(wiring.egress_service())
    assert isinstance(poster, XApiReplyPoster)
    assert isinstance(persistence, SqlitePersistenceLayer)


def test_local_x_without_credentials_names_the_variables(local_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOT_EGRESS", "x")
    monkeypatch.setenv("TWITTER_API_KEY", "key")
    with pytest.raises(ConfigurationError) as caught:
        wiring.egress_service()
    message = str(caught.value)
    assert "TWITTER_API_SECRET" in message and "TWITTER_ACCESS_TOKEN_SECRET" in message
    assert "TWITTER_API_KEY" not in message.split("needs", 1)[1]


def test_local_unknown_egress_is_refused(local_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOT_EGRESS", "twitter")
    with pytest.raises(ConfigurationError, match="BOT_EGRESS must be"):
        wiring.egress_service()


def test_aws_posts_on_x_with_dynamodb(aws_env: None) -> None:
    poster, persistence = parts(wiring.egress_service())
    assert isinstance(poster, XApiReplyPoster)
    assert isinstance(persistence, DynamoDBPersistenceLayer)
    assert persistence.table_name == "idempotency"


def test_aws_without_table_is_refused(aws_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("IDEMPOTENCY_TABLE")
    with pytest.raises(ConfigurationError, match="IDEMPOTENCY_TABLE"):
        wiring.egress_service()


def test_aws_outbox_is_refused(aws_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    # Whoever sets it on AWS expects a dry run: refused, never silently posted for real.
    monkeypatch.setenv("BOT_EGRESS", "outbox")
    with pytest.raises(ConfigurationError, match="local runtime"):
        wiring.egress_service()


def test_aws_with_bot_egress_x_posts_on_x(aws_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOT_EGRESS", "x")
    poster, _ = parts(wiring.egress_service())
    assert isinstance(poster, XApiReplyPoster)


def test_aws_poster_and_webhook_read_one_secret(aws_env: None) -> None:
    # One reader, one cache: a rotated secret reaches the webhook and Egress at the same time.
    secret = wiring.webhook_secret()
    assert isinstance(secret, SecretsManagerCredentials)
    poster, _ = parts(wiring.egress_service())
    assert isinstance(poster, XApiReplyPoster)
    assert poster._signer._credentials == secret.credentials


def test_aws_with_the_real_secret(aws_env: None) -> None:
    from aws_lambda_powertools.utilities import parameters

    parameters.clear_caches()  # type: ignore[no-untyped-call]
    boto3.client("secretsmanager", region_name="us-east-1").put_secret_value(
        SecretId="TwitterSecret", SecretString=json.dumps({**SECRET, "BearerToken": "bearer"})
    )
    provider = SecretsManagerCredentials("TwitterSecret", max_age_seconds=300)
    assert provider.credentials() == {**SECRET, "BearerToken": "bearer"}
    assert provider.consumer_secret() == "consumer-SECRET"
    poster, _ = parts(wiring.egress_service())
    assert isinstance(poster, XApiReplyPoster)
    parameters.clear_caches()  # type: ignore[no-untyped-call]


def test_credentials_document_omits_an_empty_bearer_token(aws_env: None) -> None:
    from aws_lambda_powertools.utilities import parameters

    parameters.clear_caches()  # type: ignore[no-untyped-call]
    boto3.client("secretsmanager", region_name="us-east-1").put_secret_value(
        SecretId="TwitterSecret", SecretString=json.dumps({**SECRET, "BearerToken": "", "Other": "ignored"})
    )
    assert SecretsManagerCredentials("TwitterSecret", max_age_seconds=0).credentials() == SECRET
    parameters.clear_caches()  # type: ignore[no-untyped-call]


def test_wiring_builds_egress_locally(local_env: Path) -> None:
    service = wiring.egress_service()
    assert isinstance(parts(service)[0], OutboxPoster)
