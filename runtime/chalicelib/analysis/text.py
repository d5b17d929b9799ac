"""Text analysis: which language, whether there is anything to analyse, and key phrases or not."""

from __future__ import annotations

from chalicelib.contracts.analysis import TextAnalysis
from chalicelib.kernel.text import without_mentions_and_urls
from chalicelib.ports import TextAnalyser


class TextAnalysisService:
    def __init__(self, *, analyser: TextAnalyser, key_phrases: bool) -> None:
        self._analyser = analyser
        self._key_phrases = key_phrases

    def analyse(self, text: str, lang: str | None) -> TextAnalysis:
        """Analyse the post's text in its language (the post's `lang`, or detected).

        Text that is empty once mentions and URLs are removed costs no call. The analysis runs on
        the whole text, so offsets point into the post as written.
        """
        remainder = without_mentions_and_urls(text)
        if not remainder:
            return TextAnalysis(language=None)
        language = lang if lang and self._analyser.supports(lang) else self._analyser.detect_language(remainder)
        if language is None or not self._analyser.supports(language):
            return TextAnalysis(language=language)
        return self._analyser.analyse(text, language, key_phrases=self._key_phrases).capped()
