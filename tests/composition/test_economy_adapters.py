"""The economy profile's Adapters (chalicelib.adapters.economy): every factory of the protocol,
chosen by BOT_ADAPTERS, small models where issue 12 puts them and the AWS adapters elsewhere."""

from __future__ import annotations

import inspect
import subprocess
import sys
from pathlib import Path

import pytest
from botlocal.analysis import MODELS_DIR
from chalicelib import wiring
from chalicelib.adapters.aws import AwsAdapters
from chalicelib.adapters.dynamodb_sessions import DynamoDbConversationSessions
from chalicelib.adapters.economy import EconomyAdapters
from chalicelib.adapters.economy_images import EconomyImageAnalyser
from chalicelib.adapters.intent_bot import IntentMatcherBot
from chalicelib.adapters.rekognition_moderation import RekognitionPhotoModerator
from chalicelib.kernel.errors import ConfigurationError
from chalicelib.ports import Adapters
from chalicelib.responding.fulfilment import fulfil
from chalicelib.settings import load_settings
from chalicelib.smallmodels import files
from chalicelib.smallmodels.text import SmallTextAnalyser

from tests.fakes import MemoryMediaStore

ECONOMY_ADAPTERS = "chalicelib.adapters.economy:EconomyAdapters"
RUNTIME = Path(__file__).resolve().parents[2] / "runtime"


@pytest.fixture
def aws_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Enough for boto3 to make clients (no call is made); the economy profile's settings."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "BOT_ADAPTERS": ECONOMY_ADAPTERS,
        "MEDIA_BUCKET": "media",
        "IDEMPOTENCY_TABLE": "idempotency",
        "SMALL_MODELS_DIR": str(MODELS_DIR),
    }.items():
        monkeypatch.setenv(name, value)


def test_every_factory_of_the_protocol_is_there_with_its_parameters() -> None:
    def factories(cls: type) -> dict[str, inspect.Signature]:
        return {
            name: inspect.signature(member)
            for name, member in inspect.getmembers(cls, inspect.isfunction)
            if not name.startswith("_")
        }

    built = factories(EconomyAdapters)
    for name, signature in factories(Adapters).items():
        assert name in built, f"EconomyAdapters lacks {name}()"
        assert list(built[name].parameters) == list(signature.parameters), name


def test_bot_adapters_chooses_the_economy_adapters(aws_environment: None) -> None:
    wiring.reset()
    try:
        assert isinstance(wiring.adapters(), EconomyAdapters)
        assert f"{EconomyAdapters.__module__}:{EconomyAdapters.__name__}" == ECONOMY_ADAPTERS
    finally:
        wiring.reset()


def test_the_small_models_replace_comprehend_rekognition_labels_and_lex(aws_environment: None) -> None:
    adapters = EconomyAdapters(load_settings())
    media = MemoryMediaStore()

    assert isinstance(adapters.text_analyser(), SmallTextAnalyser)
    assert isinstance(adapters.image_analyser(media), EconomyImageAnalyser)
    assert isinstance(adapters.conversation_bot(fulfil), IntentMatcherBot)
    assert isinstance(adapters.conversation_sessions(), DynamoDbConversationSessions)
    # Moderation before a repost stays paid (issue 12).
    assert isinstance(adapters.photo_moderator(media), RekognitionPhotoModerator)
    assert type(adapters.photo_moderator(media)) is type(AwsAdapters(load_settings()).photo_moderator(media))


def test_photos_need_the_models_folder(aws_environment: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SMALL_MODELS_DIR")
    with pytest.raises(ConfigurationError, match="SMALL_MODELS_DIR is not set"):
        EconomyAdapters(load_settings()).image_analyser(MemoryMediaStore())
    # Text needs no folder: fastText's model is found in its installed package.
    assert isinstance(EconomyAdapters(load_settings()).text_analyser(), SmallTextAnalyser)


def test_a_models_folder_without_the_label_model_fails_when_the_analyser_is_made(
    aws_environment: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("SMALL_MODELS_DIR", str(tmp_path))
    with pytest.raises(files.ModelFileError, match=r"efficientnet_lite0\.onnx is missing"):
        EconomyAdapters(load_settings()).image_analyser(MemoryMediaStore())


def test_the_setting_is_the_one_smallmodels_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(files.MODELS_DIR_SETTING, "/opt/models")
    assert load_settings().small_models_dir == "/opt/models"
    monkeypatch.delenv(files.MODELS_DIR_SETTING)
    assert load_settings().small_models_dir is None


def test_importing_the_economy_adapters_loads_no_model_library() -> None:
    code = (
        "import sys, chalicelib.adapters.economy, chalicelib.adapters.economy_images, "
        "chalicelib.adapters.intent_bot, chalicelib.adapters.dynamodb_sessions\n"
        "heavy = {'numpy', 'PIL', 'onnxruntime', 'dlib', 'fasttext', 'vaderSentiment', 'yake', 'boto3'}\n"
        "print(sorted(heavy & set(sys.modules)))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=RUNTIME, capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "[]"
