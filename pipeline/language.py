"""Language: what the markup says, checked by a detector (py3langid) on the text itself."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from pipeline.cachefiles import cache_folder, load_pickle, save_pickle
from pipeline.rules import CONFIDENT, DETECTION_SAMPLE, MIN_TEXT_FOR_DETECTION

MODEL_CACHE_VERSION = 1  # of the cached identifier below: a new one leaves the old file behind


@lru_cache(maxsize=1)
def _identifier() -> Any:
    """py3langid's identifier with its model. The model ships LZMA-compressed: decompressing it is
    most of its loading (~0.45 of ~0.55 s here, in every crawl and worker pool), so the identifier,
    once built, is kept in the machine's cache folder (pipeline.cachefiles, ~70 MB) and read back
    from there (~0.09 s). The file's name holds the model file's size and modification time: a
    new py3langid, with a new model, is a new file."""
    from py3langid.langid import MODEL_DIR, MODEL_FILE, LanguageIdentifier

    model = MODEL_DIR / MODEL_FILE
    stat = model.stat()
    cached = cache_folder() / (
        f"langid-{MODEL_CACHE_VERSION}-{stat.st_size}-{stat.st_mtime_ns}.pickle"
    )
    identifier = load_pickle(cached, LanguageIdentifier)
    if identifier is None:
        identifier = LanguageIdentifier.from_model_file(model, norm_probs=True)
        save_pickle(cached, identifier)
    return identifier


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
