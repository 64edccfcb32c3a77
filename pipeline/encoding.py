"""Bytes → text for pages whose declared encoding may be missing or wrong.

w3lib reads the HTTP header, BOM and ``<meta charset>`` as browsers do. Then we check the result:
Arabic or Russian sites declaring ``iso-8859-1``/``windows-1252`` (or ``utf-8``) while sending
windows-1256, koi8-r or cp1251 bytes come out as mojibake or replacement characters, and
charset-normalizer gets a say.
"""

from __future__ import annotations

import re

from charset_normalizer import from_bytes
from w3lib.encoding import html_to_unicode

LATIN1_SUPPLEMENT = re.compile(r"[\u00c0-\u00ff]")
LETTER = re.compile(r"[^\W\d_]")
CANDIDATES = ("utf-8", "windows-1256", "cp1251", "koi8-r", "iso-8859-6", "windows-1252")


def _looks_broken(text: str) -> bool:
    if not text:
        return False
    if text.count("\ufffd") > max(3, len(text) // 500):
        return True
    sample = text[:20000]
    # Mostly Latin-1 accented letters: the page was in another single-byte code page. Counted
    # first: with 15 or fewer the share cannot pass 0.3 of 50 letters or more, and the letters
    # (a long count) need not be counted.
    accented = len(LATIN1_SUPPLEMENT.findall(sample))
    if accented <= 15:
        return False
    letters = len(LETTER.findall(sample))
    if letters < 50:
        return False
    return accented / letters > 0.3


def decode_html(body: bytes, content_type: str | None = None) -> tuple[str, str]:
    """The page's text and the encoding it was decoded with."""
    encoding, text = html_to_unicode(content_type, body)
    if not _looks_broken(text):
        return encoding, text
    best = from_bytes(body, cp_isolation=list(CANDIDATES)).best() or from_bytes(body).best()
    if best is not None:
        guess = str(best)
        if not _looks_broken(guess):
            return best.encoding, guess
    return encoding, text


HTML_MARKERS = re.compile(
    rb"<\s*(?:!doctype\s+html|html|head|body|meta|title|div|p|article)\b", re.I
)


def not_html_reason(body: bytes) -> str:
    """Why ``body`` is not an HTML page ("" when it is one): binary data, or text without markup."""
    head = body[:8192]
    if not body.strip():
        return "empty file"
    if b"\x00" in head and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "binary data, not an HTML page"
    if not HTML_MARKERS.search(body[:65536]):
        return "no HTML markup in it"
    return ""
