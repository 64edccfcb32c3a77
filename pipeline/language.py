"""Language: what the markup says, checked by a detector (py3langid) on the text itself."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from pipeline.rules import CONFIDENT, DETECTION_SAMPLE, MIN_TEXT_FOR_DETECTION


@lru_cache(maxsize=1)
def _identifier() -> Any:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def warm() -> None:
    """Load the model now (a process that forks extraction workers loads it once for all)."""
    _identifier()


def normalise_tag(tag: str | None) -> str:
    """'en-US' → 'en', 'ar_SY' → 'ar', 'ru' → 'ru'; junk → ''."""
    if not tag:
        return ""
    m = re.match(r"^\s*([A-Za-z]{2,3})(?:[-_][A-Za-z0-9]+)*\s*$", tag)
    return m.group(1).lower() if m else ""


def detect(text: str) -> tuple[str, float]:
    lang, prob = _identifier().classify(text[:DETECTION_SAMPLE])
    return str(lang), float(prob)


def choose_language(declared: list[str], text: str, fallback: str = "") -> str:
    """The first declared language, unless the text clearly says otherwise (templates often
    declare the site's default language on every page)."""
    tags = [t for t in (normalise_tag(d) for d in declared) if t]
    if len(text) >= MIN_TEXT_FOR_DETECTION:
        detected, prob = detect(text)
        if prob >= CONFIDENT and (not tags or detected != tags[0]):
            return detected
    if tags:
        return tags[0]
    if text:
        return detect(text)[0]
    return normalise_tag(fallback)
