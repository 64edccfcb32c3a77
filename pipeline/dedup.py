"""Duplicate detection: exact (hash of normalised text) and near (MinHash over word shingles).

The LSH index is persistent and shared: each article's signature is cut into bands (datasketch
picks bands × rows for the threshold), and every band's key is a row in ``lsh_bands``. A lookup
is one indexed query for the new page's band keys, then an exact signature comparison of the
few candidates — no in-memory index to rebuild, and every crawler process sees the same index.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from datasketch import MinHash, MinHashLSH

from pipeline.textnorm import WORD_RE, fold

NUM_PERM = 128
SHINGLE_WORDS = 5
MIN_WORDS_FOR_NEAR = 80  # shorter texts are merged only when exactly equal
MIN_WORDS_FOR_EXACT = 15
SAME_OUTLET_THRESHOLD = 0.9  # one outlet rarely republishes itself; its pages share templates
# Lines that say where a piece comes from or how to follow the site: never part of the work.
BOILERPLATE_RE = re.compile(
    r"originally (?:published|appeared)|first (?:published|appeared)|republished (?:with|from|by)|"
    r"reprinted (?:with|from)|this (?:article|piece|column|op-ed) (?:was|is|first)|all rights reserved|"
    r"©|\(c\)\s*\d{4}|follow us|subscribe|sign up|share this|read more|related:|"
    r"views expressed|do(?:es)? not necessarily reflect|"
    r"впервые опубликован|перепечатка|источник:|نشر (?:هذا المقال|أولا|لأول مرة)|المصدر:",
    re.IGNORECASE,
)


def content_lines(text: str) -> list[str]:
    return [
        ln
        for ln in text.splitlines()
        if ln.strip() and not (len(ln) < 300 and BOILERPLATE_RE.search(ln))
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
    m = MinHash(num_perm=NUM_PERM, seed=1)
    m.update_batch(list(shingles(words)))
    return m


def signature_bytes(m: MinHash) -> bytes:
    return np.asarray(m.hashvalues, dtype=np.uint64).tobytes()


def signature_array(raw: bytes) -> np.ndarray:
    return np.frombuffer(raw, dtype=np.uint64)


def similarity(a: bytes | np.ndarray, b: bytes | np.ndarray) -> float:
    """Estimated Jaccard similarity of two stored signatures."""
    va = signature_array(a) if isinstance(a, bytes) else a
    vb = signature_array(b) if isinstance(b, bytes) else b
    return float(np.count_nonzero(va == vb)) / len(va)


@lru_cache(maxsize=16)
def lsh_params(threshold: float) -> tuple[int, int]:
    """(bands, rows) that datasketch chooses for this threshold and signature size."""
    lsh = MinHashLSH(threshold=threshold, num_perm=NUM_PERM)
    return lsh.b, lsh.r


def band_keys(signature: bytes, threshold: float) -> list[tuple[int, int]]:
    """(band, key) pairs; the key is a signed 64-bit hash of the band's rows."""
    b, r = lsh_params(threshold)
    values = signature_array(signature)
    out = []
    for band in range(b):
        chunk = values[band * r : (band + 1) * r].tobytes()
        key = int.from_bytes(hashlib.blake2b(chunk, digest_size=8).digest(), "big", signed=True)
        out.append((band, key))
    return out


@dataclass(frozen=True)
class Fingerprint:
    words: int
    content_hash: str
    signature: bytes | None  # None for texts too short for near-duplicate matching

    @classmethod
    def of(cls, text: str) -> Fingerprint:
        w = normalized_words(text)
        sig = signature_bytes(minhash(w)) if len(w) >= MIN_WORDS_FOR_NEAR else None
        return cls(len(w), content_hash(w), sig)

    @property
    def exact_ok(self) -> bool:
        return self.words >= MIN_WORDS_FOR_EXACT
