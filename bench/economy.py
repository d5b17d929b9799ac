"""The economy profile's cold start (issue 12, section 2): what a new container of each economy
function spends before its first answer, with the code as Lambda has it.

Each run is a fresh `python -I -S` (no site-packages: the venv's packages are out of reach) whose
sys.path is the function bundle (`chalice package`'s deployment.zip, unzipped) and the economy
layer's python/ folder, with SMALL_MODELS_DIR at the layer's models/, as on Lambda (/var/task,
/opt/python, /opt/models). The layer's modules are precompiled (unchecked-hash .pyc), as shipped;
nothing is written beside them (-B). One figure per function, each its first
use:

- analysis_analyse_image: the labeller the economy adapters build (EfficientNet-Lite0 on
  onnxruntime, dlib's HOG face cue, the PP-OCRv6 text cue), loaded and run on one photo;
- analysis_analyse_text: the small text analyser's language and sentiment on one post;
- responding_reply_to_text: the intent matcher built and asked once.

CPU time (user + system, the process's own) is the steadier figure and the one to read for Lambda,
which gives one vCPU at 1,769 MB and a share of one below that; wall time is printed beside it.
Peak RSS (the process's own high-water mark, Linux's VmHWM) says what memory the function needs
before the photo's own copies. The AWS calls and the handler module's import (the `cold-start`
section's figures) are not in these.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import textwrap
import zipfile
from pathlib import Path
from typing import Final

from bench.bundle import infrastructure_on_path, shipped_bundle
from bench.stats import Figure, figure

ROOT: Final = Path(__file__).resolve().parents[1]
PHOTOS: Final = ROOT / "tests" / "fixtures" / "photos"
SECTION: Final = "Economy profile: first answer in a new container (bundle + layer only)"

#: What each function does first, as the economy adapters build it; prints its timings as JSON.
_PREAMBLE: Final = """
import json, os, resource, sys, time
started = time.perf_counter()
bundle, layer_python, photos = sys.argv[1:4]
sys.path[:0] = [bundle, layer_python]
from pathlib import Path
"""
_EPILOGUE: Final = """
usage = resource.getrusage(resource.RUSAGE_SELF)
# The peak of this program's own memory (VmHWM): ru_maxrss would count the parent's size at the fork.
with open("/proc/self/status") as status:
    peak_kib = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
print(json.dumps({
    "wall_s": time.perf_counter() - started,
    "cpu_s": usage.ru_utime + usage.ru_stime,
    "peak_rss_mib": peak_kib / 1024,
    "answer": answer,
}))
"""
_FIRST_USE: Final = {
    "analysis_analyse_image": """
from chalicelib.smallmodels.cues import FaceCue, TextCue
from chalicelib.smallmodels.decode import decode_image
from chalicelib.smallmodels.faces import HogFaceDetector
from chalicelib.smallmodels.imagenet import ImageNetLabeller
from chalicelib.smallmodels.labels import MergedLabeller
from chalicelib.smallmodels.photo import AnalysedImage
models = Path(os.environ["SMALL_MODELS_DIR"])
faces = HogFaceDetector()
labeller = MergedLabeller([ImageNetLabeller(models_dir=models), FaceCue(), TextCue(models_dir=models)])
image = AnalysedImage(decode_image((Path(photos) / "obama2.jpg").read_bytes(), max_pixels=50_000_000), faces=faces)
answer = sorted(record["Name"] for record in labeller.labels(image))
""",
    "analysis_analyse_text": """
from chalicelib.smallmodels.text import SmallTextAnalyser
analyser = SmallTextAnalyser()
post = "This is the worst service I have ever had, I hate it."
answer = [analyser.detect_language(post), analyser.analyse(post, "en", key_phrases=False).sentiment]
""",
    "responding_reply_to_text": """
from chalicelib.contracts import conversation
from chalicelib.smallmodels.intents import IntentMatcher
matcher = IntentMatcher(conversation.intents_for(conversation.DEFAULT_LOCALE_ID))
answer = matcher.match("tell me a joke please").intent
""",
}


def layer_folder() -> Path:
    """The economy layer's folder, as the economy synth builds it (built now if not cached yet)."""
    infrastructure_on_path()
    from stacks import economy_layer

    return economy_layer.build()


def _first_use(name: str, bundle: Path, layer: Path) -> dict[str, object]:
    code = textwrap.dedent(_PREAMBLE) + textwrap.dedent(_FIRST_USE[name]) + textwrap.dedent(_EPILOGUE)
    environment = {
        "PATH": os.environ.get("PATH", ""),
        "SMALL_MODELS_DIR": str(layer / "models"),
    }
    result = subprocess.run(  # noqa: S603 (this interpreter, fixed code)
        [sys.executable, "-I", "-S", "-B", "-c", code, str(bundle), str(layer / "python"), str(PHOTOS)],
        capture_output=True,
        text=True,
        env=environment,
        check=False,
        timeout=600,
    )
    if result.returncode != 0:
        raise RuntimeError(f"{name}'s first use failed:\n{result.stderr[-2000:]}")
    found: dict[str, object] = json.loads(result.stdout.splitlines()[-1])
    return found


def measure(rounds: int) -> list[Figure]:
    layer = layer_folder()
    figures: list[Figure] = []
    with tempfile.TemporaryDirectory(prefix="xbot-bench-economy-") as folder:
        bundle = Path(folder) / "task"
        with zipfile.ZipFile(shipped_bundle()) as archive:
            archive.extractall(bundle)
        runs: dict[str, list[dict[str, object]]] = {name: [] for name in _FIRST_USE}
        # Interleaved, round by round, so load on the machine weighs on every function alike.
        for _ in range(rounds):
            for name in _FIRST_USE:
                runs[name].append(_first_use(name, bundle, layer))
    for name, results in runs.items():
        answer = json.dumps(results[-1]["answer"])
        figures += [
            figure(SECTION, f"{name}: CPU", "s", [float(str(run["cpu_s"])) for run in results], f"answer {answer}"),
            figure(SECTION, f"{name}: wall", "s", [float(str(run["wall_s"])) for run in results]),
            figure(SECTION, f"{name}: peak RSS", "MiB", [float(str(run["peak_rss_mib"])) for run in results]),
        ]
    return figures
