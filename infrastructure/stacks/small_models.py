"""The economy profile (`-c profile=economy`) in the Chalice functions: the small models' layer, and
what a function needs to run them.

Only the stack calls `build_layer`, and only for the economy profile: building the layer downloads
its wheels (minutes the first time, then cached under build/economy-layer). The services say which of
their functions run the small models and with how much memory (their ECONOMY_MEMORY_MB), and grant
what those functions call instead of Comprehend, DetectLabels and Lex.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from stacks.chalice_app import ChaliceApp

#: chalicelib.adapters.economy's factory, as BOT_ADAPTERS names it (chalicelib/settings.py): set on
#: the economy functions only; every other function keeps the AWS adapters (the variable unset).
ECONOMY_ADAPTERS = "chalicelib.adapters.economy:EconomyAdapters"


@dataclass(frozen=True)
class SmallModels:
    """The economy layer, and where its model files are on Lambda."""

    layer: lambda_.ILayerVersion
    #: SMALL_MODELS_DIR (chalicelib/settings.py): the layer's models/ folder, under /opt.
    models_dir: str

    def environment(self, *, with_models: bool = True) -> dict[str, str]:
        """The variables that make a function use the economy adapters (its own, not the stage's),
        and where the layer's model files are when it loads them."""
        models = {"SMALL_MODELS_DIR": self.models_dir} if with_models else {}
        return {"BOT_ADAPTERS": ECONOMY_ADAPTERS, **models}

    def use_in(self, app: ChaliceApp, memory_mb: Mapping[str, int], *, needs_layer: bool = True) -> None:
        """Each function of `memory_mb` (its name as Chalice registers it -> MB) gets the economy
        adapters and that memory, and the layer with its models unless `needs_layer` is False (a
        function whose small model is plain Python loads nothing from it: a smaller cold start)."""
        for name, memory in memory_mb.items():
            if needs_layer:
                app.set_layers(name, self.layer)
            app.add_environment(name, self.environment(with_models=needs_layer))
            app.set_memory(name, memory)


def build_layer(scope: Construct, construct_id: str) -> SmallModels:
    """Build the economy layer (stacks/economy_layer.py, cached) and make its LayerVersion.

    Imported here rather than at the top: the default profile neither builds the layer nor loads the
    code that builds it.
    """
    from stacks import economy_layer

    built = economy_layer.build()
    layer = economy_layer.EconomyLayer(scope, construct_id, directory=built)
    return SmallModels(layer=layer.layer, models_dir=economy_layer.MODELS_DIR)
