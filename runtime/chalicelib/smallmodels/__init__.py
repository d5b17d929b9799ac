"""Small models the Lambda functions may run themselves: pure Python here, heavy libraries elsewhere.

The code of the local runtime's analysis that does not need OpenCV, RapidOCR's pipeline or the
face-embedding models lives here, so that the Lambda bundle (the economy profile, issue 12) and
the local runtime (which imports it) run the same code:

- text (SmallTextAnalyser): language from fastText's lid.176.ftz, sentiment from VADER, entities
  from patterns, key phrases from YAKE;
- intents (IntentMatcher) and conversation (the Lex V2 code-hook event a matcher's answer makes);
- imagenet (ImageNetLabeller: EfficientNet-Lite0 on onnxruntime), labels (the model-free label
  helpers), faces (dlib's HOG face detector), cues (FaceCue and TextCue: the Person/Face and Text
  labels that ImageNet lacks), photo (AnalysedImage), decode, _lazy;
- files: each model file's name and SHA-256 and where it is found.

Importing any module here is cheap: numpy, Pillow, onnxruntime, dlib, fastText, VADER and YAKE are
imported inside the functions that use them, and each model loads on first use. The model files
are never in chalicelib (Chalice zips it into every function): see files.py. This package imports
only the contracts, the kernel and itself; adapters may import it, services never.
"""
