"""Text fingerprints: what duplicate detection (pipeline.dedup) compares. A normalised-text hash
for exact duplicates; a MinHash signature over word shingles, cut into LSH bands, for near ones.

Computed where the text is extracted (the crawl's extraction workers, crawler.extraction_worker),
so this module needs neither the database nor the ORM; datasketch (which brings NumPy and SciPy
along, about a third of a second) is imported where a signature is computed.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from pipeline.textnorm import WORD_RE, fold

if TYPE_CHECKING:
    from datasketch import MinHash

NUM_PERM = 128
SEED = 1
# datasketch's permutation scheme, named: its default changed in datasketch 2.0 (from "legacy"),
# and signatures made with two schemes cannot be compared. "affine32" is 2.0's default, and 2.5x
# faster than "legacy" on an 800-word article (1.8 against 4.4 ms here).
SCHEME = "affine32"
SHINGLE_WORDS = 5
MIN_WORDS_FOR_NEAR = 80  # shorter texts are merged only when exactly equal
MIN_WORDS_FOR_EXACT = 15
# Lines that say where a piece comes from or how to follow the site: never part of the work.
BOILERPLATE_RE = re.compile(
    r"originally (?:published|appeared)|first (?:published|appeared)|republished (?:with|from|by)|"
    r"reprinted (?:with|from)|this (?:article|piece|column|op-ed) (?:was|is|first)|all rights reserved|"
    r"©|\(c\)\s*\d{4}|follow us|subscribe|sign up|share this|read more|related:|"
    r"views expressed|do(?:es)? not necessarily reflect|"
    r"впервые опубликован|перепечатка|источник:|نشر (?:هذا المقال|أولا|لأول مرة)|المصدر:",
    re.IGNORECASE,
)


# BOILERPLATE_RE is case-insensitive, which makes it slow (~40 µs a line). This case-sensitive
# copy, searched in the case-folded line, turns away most lines first and lets through every line
# the original matches: case folding maps each letter to the one the original matches it with,
# save dotless ı and dotted İ (folded to ı and i + U+0307), which ``boilerplate_fold`` maps to i.
FOLDED_BOILERPLATE_RE = re.compile(BOILERPLATE_RE.pattern)


def boilerplate_fold(line: str) -> str:
    return line.casefold().replace("ı", "i").replace("\u0307", "")


def is_boilerplate(line: str) -> bool:
    """A line that says where a piece comes from or how to follow the site (BOILERPLATE_RE)."""
    return bool(
        FOLDED_BOILERPLATE_RE.search(boilerplate_fold(line)) and BOILERPLATE_RE.search(line)
    )


def content_lines(text: str) -> list[str]:
    return [
        ln for ln in text.splitlines() if ln.strip() and not (len(ln) < 300 and is_boilerplate(ln))
    ]


def normalized_words(text: str) -> list[str]:
    return WORD_RE.findall(fold("\n".join(content_lines(text))))


def content_hash(words: list[str]) -> str:
    return hashlib.sha256(" ".join(words).encode("utf-8")).hexdigest()


def shingles(words: list[str], k: int = SHINGLE_WORDS) -> set[bytes]:
    if len(words) < k:
        return {" ".join(words).encode("utf-8")} if words else set()
    return {" ".join(words[i : i + k]).encode("utf-8") for i in range(len(words) - k + 1)}


def minhash(words: list[str]) -> MinHash:
    from datasketch import MinHash

    m = MinHash(num_perm=NUM_PERM, seed=SEED, scheme=SCHEME)
    m.update_batch(list(shingles(words)))
    return m


def signature_bytes(m: MinHash) -> bytes:
    import numpy as np  # with datasketch, which needs it too

    return np.asarray(m.hashvalues, dtype=np.uint64).tobytes()


def signature_values(raw: bytes) -> memoryview:
    """A stored signature's hash values (unsigned 64-bit)."""
    return memoryview(raw).cast("Q")


def similarity(a: bytes, b: bytes) -> float:
    """Estimated Jaccard similarity of two stored signatures: the share of equal hash values."""
    va, vb = signature_values(a), signature_values(b)
    return sum(x == y for x, y in zip(va, vb, strict=True)) / len(va)


@lru_cache(maxsize=16)
def lsh_params(threshold: float) -> tuple[int, int]:
    """(bands, rows) that datasketch chooses for this threshold and signature size."""
    from datasketch import MinHashLSH

    lsh = MinHashLSH(threshold=threshold, num_perm=NUM_PERM)
    return lsh.b, lsh.r


def signatures_made_with() -> str:
    """How signatures are made, in words: two processes whose descriptions differ make signatures
    that cannot be compared (stored with the index: pipeline.dedup.ensure_index)."""
    return (
        f"datasketch MinHash, scheme {SCHEME}, {NUM_PERM} permutations, seed {SEED},"
        f" {SHINGLE_WORDS}-word shingles"
    )


def bands_made_with(threshold: float, shape: tuple[int, int] | None = None) -> str:
    """How band keys are cut from a signature for ``threshold``, in words (as above).
    ``shape``: its (bands, rows), when known (a fingerprint's ``shape``): datasketch, which
    computes them, is then not imported (the crawl process never imports it otherwise)."""
    b, r = shape or lsh_params(threshold)
    return f"{b} bands of {r} rows"


def band_keys(signature: bytes, threshold: float) -> list[tuple[int, int]]:
    """(band, key) pairs; the key is a signed 64-bit hash of the band's rows."""
    b, r = lsh_params(threshold)
    out = []
    for band in range(b):
        chunk = signature[band * r * 8 : (band + 1) * r * 8]
        key = int.from_bytes(hashlib.blake2b(chunk, digest_size=8).digest(), "big", signed=True)
        out.append((band, key))
    return out


@dataclass(frozen=True)
class Fingerprint:
    words: int
    content_hash: str
    signature: bytes | None  # None for texts too short for near-duplicate matching
    # The signature's LSH band keys for ``threshold`` (given to ``of``), or () when not computed.
    bands: tuple[tuple[int, int], ...] = ()
    threshold: float | None = None
    shape: tuple[int, int] | None = None  # (bands, rows) for ``threshold``, when given

    @classmethod
    def of(cls, text: str, threshold: float | None = None) -> Fingerprint:
        w = normalized_words(text)
        sig = signature_bytes(minhash(w)) if len(w) >= MIN_WORDS_FOR_NEAR else None
        bands = tuple(band_keys(sig, threshold)) if sig is not None and threshold else ()
        shape = lsh_params(threshold) if threshold else None
        return cls(len(w), content_hash(w), sig, bands, threshold, shape)

    def band_keys(self, threshold: float) -> list[tuple[int, int]]:
        """The band keys for ``threshold``: those computed with the fingerprint when it was for
        this threshold."""
        if self.signature is None:
            return []
        if self.threshold == threshold:
            return list(self.bands)
        return band_keys(self.signature, threshold)

    @property
    def exact_ok(self) -> bool:
        return self.words >= MIN_WORDS_FOR_EXACT
