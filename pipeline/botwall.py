"""Bot walls: a challenge or block page served instead of the content, often with status 200.

A crawl that meets one must count it as a bot wall, not store it and not read it as "no news"
(outlet health). Recognised by the marks the common anti-bot services put in their pages
(Cloudflare, Imperva/Incapsula, Akamai, DataDome, PerimeterX/HUMAN, Sucuri, AWS WAF) and by a
generic shape: a short page whose title or heading asks to prove one is human. Only short pages
are considered, so an article that merely mentions a captcha is never taken for a wall.
"""

from __future__ import annotations

import re

# A wall page is small; real article pages are much larger than this once their text is in.
MAX_WALL_BYTES = 60_000

# Marks of the anti-bot services, lower case: looked for in the lower-cased page, each with a
# plain substring search (one case-insensitive regex of them all was ten times slower).
VENDOR_MARKS = (
    b"cf-browser-verification",
    b"cf_chl_",
    b"/cdn-cgi/challenge-platform/",
    b"cf-challenge",
    b"_incapsula_resource",
    b"incapsula incident id",
    b"geo.captcha-delivery.com",
    b"captcha-delivery.com/captcha",
    b"px-captcha",
    b"_pxappid",
    b"perimeterx",
    b"sucuri_cloudproxy",
    b"sucuri website firewall",
    b"awswaf",
    b"aws-waf-token",
    b"errors.edgesuite.net",
)
TITLE_RE = re.compile(rb"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
HEADING_RE = re.compile(rb"<h1[^>]*>(.*?)</h1>", re.IGNORECASE | re.DOTALL)
WALL_WORDS = re.compile(
    r"just a moment|attention required|access denied|are you (a )?human|are you a robot"
    r"|verify(ing)? (that )?you are (a )?human|checking your browser|security check"
    r"|please enable (javascript|cookies)|request blocked|bot protection|captcha"
    r"|проверка браузера|вы не робот|доступ запрещ"  # Russian
    r"|التحقق من أنك إنسان|تم حظر",  # Arabic
    re.IGNORECASE,
)


def bot_wall_reason(body: bytes, status: int = 200) -> str | None:
    """Why this response is a bot wall ("cloudflare-like challenge mark", "title: Just a
    moment..."), or None when it is not one."""
    if not body or len(body) > MAX_WALL_BYTES:
        return None
    low = body.lower()
    marks = [(at, len(mark)) for mark in VENDOR_MARKS if (at := low.find(mark)) >= 0]
    if marks:
        at, size = min(marks)  # the first in the page, as written there
        return f"anti-bot service mark {body[at : at + size].decode('latin-1')!r}"
    for pattern, where in ((TITLE_RE, "title"), (HEADING_RE, "heading")):
        found = pattern.search(body)
        if not found:
            continue
        text = re.sub(r"<[^>]+>|\s+", " ", found.group(1).decode("utf-8", "replace")).strip()
        if text and len(text) < 120 and WALL_WORDS.search(text):
            return f"{where}: {text}"
    return None
