"""Deterministic synthetic text and watchlists for the benchmarks (no third-party text)."""

from __future__ import annotations

import random

LATIN = "abcdefghijklmnoprstuvwyz"
CYRILLIC = "абвгдежзиклмнопрстуфхя"
ARABIC = "ابتثجحدرزسشصطعفقكلمنهوي"


def word(rng: random.Random, alphabet: str, lo: int = 3, hi: int = 9) -> str:
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(lo, hi)))


def vocabulary(seed: int = 7, size: int = 6000) -> list[str]:
    rng = random.Random(seed)
    words = [word(rng, LATIN) for _ in range(size // 2)]
    words += [word(rng, CYRILLIC) for _ in range(size // 4)]
    words += [word(rng, ARABIC) for _ in range(size // 4)]
    return words


def aliases(n: int, seed: int = 11) -> list[str]:
    """n distinct alias strings (one or two capitalised words, three scripts)."""
    rng = random.Random(seed)
    out: set[str] = set()
    while len(out) < n:
        alphabet = rng.choice([LATIN, LATIN, CYRILLIC, ARABIC])
        parts = [word(rng, alphabet, 4, 9).capitalize() for _ in range(rng.choice([1, 2]))]
        out.add(" ".join(parts))
    return sorted(out)


def article(rng: random.Random, vocab: list[str], n_words: int, names: list[str]) -> str:
    """A paragraph-ish text with a few watchlist names sprinkled in."""
    words = [rng.choice(vocab) for _ in range(n_words)]
    for _ in range(max(1, n_words // 150)):
        words.insert(rng.randrange(len(words)), rng.choice(names))
    return " ".join(words)
