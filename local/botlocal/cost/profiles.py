"""The profiles `botctl cost` counts: the names the command offers and the counting runs, in one
light module (the command imports it without loading the counting machinery)."""

from __future__ import annotations

from typing import Final

#: The AWS adapters: Comprehend, Rekognition and Lex (the deployed default, `-c profile=default`).
DEFAULT: Final = "default"
#: The economy adapters: the small models in the functions (`-c profile=economy`).
ECONOMY: Final = "economy"
PROFILES: Final = (DEFAULT, ECONOMY)
