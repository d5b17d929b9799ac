"""egress_service_for: the adapters each runtime gets, and the whole TwitterSecret document."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer
from botlocal.idempotency import SqlitePersistenceLayer
from botlocal.media import LocalMediaStore
from botlocal.outbox import OutboxPoster
from chalicelib.adapters.secrets import SecretsManagerCredentials, StaticConsumerSecret
from chalicelib.adapters.x_api import XApiReplyPoster
from chalicelib.egress.idempotency import PowertoolsIdempotency
from chalicelib.egress.service import EgressConfigurationError, EgressService, egress_service_for
from chalicelib.settings import load_settings
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


class Document:
    def credentials(self) -> dict[str, str]:
        return dict(SECRET)


@pytest.fixture
def local_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setenv("BOT_RUNTIME", "local")
    monkeypatch.setenv("BOT_LOCAL_DIR", str(tmp_path))
    monkeypatch.delenv("BOT_EGRESS", raising=False)
    for variable in LOCAL_VARIABLES:
        monkeypatch.delenv(variable, raising=False)
    return tmp_path


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("BOT_RUNTIME", "aws")
    monkeypatch.setenv("IDEMPOTENCY_TABLE", "idempotency")
    monkeypatch.delenv("BOT_EGRESS", raising=False)
    with mock_aws():
        yield


def parts(service: EgressService) -> tuple[object, object]:
    idempotency = service._idempotency
    assert isinstance(idempotency, PowertoolsIdempotency)
    return service._poster, idempotency.persistence


def test_local_default_is_the_outbox_with_sqlite(local_env: Path) -> None:
    service = egress_service_for(load_settings(), LocalMediaStore(local_env / "media"), StaticConsumerSecret("x"))
    poster, persistence = parts(service)
    assert isinstance(poster, OutboxPoster)
    assert poster.root == local_env.resolve()
    assert isinstance(persistence, SqlitePersistenceLayer)
    assert persistence.path.parent == local_env.resolve()


def test_local_with_bot_egress_x_posts_for_real(local_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOT_EGRESS", "x")
    for variable, value in LOCAL_VARIABLES.items():
        monkeypatch.setenv(variable, value)
    service = egress_service_for(load_settings(), LocalMediaStore(local_env / "media"), StaticConsumerSecret("x"))
    poster, persistence = parts(service)
    assert isinstance(poster, XApiReplyPoster)
    assert isinstance(persistence, SqlitePersistenceLayer)


def test_local_x_without_credentials_names_the_variables(local_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOT_EGRESS", "x")
    monkeypatch.setenv("TWITTER_API_KEY", "key")
    with pytest.raises(EgressConfigurationError) as caught:
        egress_service_for(load_settings(), LocalMediaStore(local_env / "media"), StaticConsumerSecret("x"))
    message = str(caught.value)
    assert "TWITTER_API_SECRET" in message and "TWITTER_ACCESS_TOKEN_SECRET" in message
    assert "TWITTER_API_KEY" not in message.split("needs", 1)[1]


def test_aws_posts_on_x_with_dynamodb(aws_env: None) -> None:
    service = egress_service_for(load_settings(), LocalMediaStore(Path("unused")), Document())
    poster, persistence = parts(service)
    assert isinstance(poster, XApiReplyPoster)
    assert isinstance(persistence, DynamoDBPersistenceLayer)
    assert persistence.table_name == "idempotency"


def test_aws_without_table_is_refused(aws_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("IDEMPOTENCY_TABLE")
    with pytest.raises(EgressConfigurationError, match="IDEMPOTENCY_TABLE"):
        egress_service_for(load_settings(), LocalMediaStore(Path("unused")), Document())


def test_aws_outbox_is_refused(aws_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOT_EGRESS", "outbox")
    with pytest.raises(EgressConfigurationError, match="local runtime"):
        egress_service_for(load_settings(), LocalMediaStore(Path("unused")), Document())


def test_aws_provider_without_the_document_is_refused(aws_env: None) -> None:
    with pytest.raises(EgressConfigurationError, match="StaticConsumerSecret"):
        egress_service_for(load_settings(), LocalMediaStore(Path("unused")), StaticConsumerSecret("x"))


def test_aws_with_the_real_secret(aws_env: None) -> None:
    from aws_lambda_powertools.utilities import parameters

    parameters.clear_caches()  # type: ignore[no-untyped-call]
    boto3.client("secretsmanager", region_name="us-east-1").create_secret(
        Name="TwitterSecret", SecretString=json.dumps({**SECRET, "BearerToken": "bearer"})
    )
    provider = SecretsManagerCredentials("TwitterSecret", max_age_seconds=300)
    assert provider.credentials() == {**SECRET, "BearerToken": "bearer"}
    assert provider.consumer_secret() == "consumer-SECRET"
    service = egress_service_for(load_settings(), LocalMediaStore(Path("unused")), provider)
    assert isinstance(parts(service)[0], XApiReplyPoster)
    parameters.clear_caches()  # type: ignore[no-untyped-call]


def test_credentials_document_omits_an_empty_bearer_token(aws_env: None) -> None:
    from aws_lambda_powertools.utilities import parameters

    parameters.clear_caches()  # type: ignore[no-untyped-call]
    boto3.client("secretsmanager", region_name="us-east-1").create_secret(
        Name="TwitterSecret", SecretString=json.dumps({**SECRET, "BearerToken": "", "Other": "ignored"})
    )
    assert SecretsManagerCredentials("TwitterSecret", max_age_seconds=0).credentials() == SECRET
    parameters.clear_caches()  # type: ignore[no-untyped-call]


def test_wiring_builds_egress_locally(local_env: Path) -> None:
    from chalicelib import wiring

    service = wiring.egress_service()
    assert isinstance(parts(service)[0], OutboxPoster)
