"""Dates: parse anything a page or feed says into UTC, and refuse the implausible."""

from __future__ import annotations

import datetime as dt
import logging
import re
import warnings
from functools import lru_cache
from typing import Any

from dateutil import parser as du_parser

from pipeline.rules import (
    ARABIC_RE,
    DEFAULT_DATE_LANGUAGES,
    DIGITS,
    EARLIEST,
    FUTURE_SLACK,
    LEVANTINE_MONTHS,
    MONTH_FIRST_LANGUAGES,
    TZINFOS,
    URL_DATE_RES,
)

log = logging.getLogger(__name__)
ZONE_NAME_RE = re.compile(r"(?<![^\W\d_])([A-Z]{2,5})(?![^\W\d_])")
BYLINE_TAIL_RE = re.compile(r"\s+by\s+\S.*$", re.IGNORECASE)


def to_utc(value: dt.datetime, default_tz: dt.tzinfo = dt.UTC) -> dt.datetime:
    if value.tzinfo is None:
        value = value.replace(tzinfo=default_tz)
    return value.astimezone(dt.UTC)


@lru_cache(maxsize=4096)
def _dateparser(value: str, language: str, base: dt.datetime | None) -> dt.datetime | None:
    import dateparser

    settings: Any = {
        "RETURN_AS_TIMEZONE_AWARE": False,
        "PREFER_DATES_FROM": "past",
        "STRICT_PARSING": False,
        # A time of day alone ("12:06") is no date: never let it become today.
        "REQUIRE_PARTS": ["day", "month"],
    }
    if base is not None:  # "yesterday", "2 hours ago": relative to the fetch, not to now
        settings["RELATIVE_BASE"] = base.astimezone(dt.UTC).replace(tzinfo=None)
    languages = [language] if language else list(DEFAULT_DATE_LANGUAGES)
    try:
        return dateparser.parse(value, languages=languages, settings=settings)
    except Exception:  # dateparser raises assorted errors on odd input
        return None


def warm() -> None:
    """Load now what dateparser's first reading of a page would (~0.3 s): its time-zone patterns
    and the dictionaries of ``DEFAULT_DATE_LANGUAGES``, all of which a text none of them reads
    goes through. A process that forks extraction workers loads them once for all."""
    import dateparser

    dateparser.parse("not a date", languages=list(DEFAULT_DATE_LANGUAGES))


_SENTINELS = (dt.datetime(2000, 1, 1), dt.datetime(2001, 2, 2))


def _dateutil(text: str, *, fuzzy: bool, dayfirst: bool) -> tuple[dt.datetime, bool] | None:
    """dateutil's reading and whether the text gave a year; None when it gave no day and
    month (parsed twice with different defaults: what comes out the same, the text said)."""
    # A byline after the date ("… at 09:11 by Jane M. Roe") is not part of it: its initial
    # would be read as a military time zone.
    text = BYLINE_TAIL_RE.sub("", text)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", du_parser.UnknownTimezoneWarning)
            a, b = (
                du_parser.parse(text, fuzzy=fuzzy, dayfirst=dayfirst, tzinfos=TZINFOS, default=d)
                for d in _SENTINELS
            )
    except (ValueError, OverflowError, TypeError):
        return None
    for w in caught:
        # A zone name we do not know: the time is read as the page's default zone, and said so.
        log.info("date %r: %s", text, w.message)
    if (a.month, a.day) != (b.month, b.day):
        return None
    return a, a.year == b.year


def parse_datetime(
    value: object,
    *,
    default_tz: dt.tzinfo = dt.UTC,
    fuzzy: bool = False,
    language: str = "",
    reference: dt.datetime | None = None,
    utc: bool = True,
) -> dt.datetime | None:
    """A datetime in UTC from an ISO string, an RFC 822 feed date, epoch seconds or free text
    in many languages ("5 марта 2024", "5 مارس 2024", "٥ مارس ٢٠٢٤").

    None when it does not parse, or when it gives no day and month: a time of day alone never
    becomes a date. A date without a year takes the year of ``reference`` (the fetch time; the
    year before when that would put it in the future). Numeric dates are read day first unless
    the page ``language`` writes the month first (English). Named zones (ET, PT, IST, MSK…) are
    mapped to their offsets (pipeline.rules.TZINFOS).

    ``utc=False``: the same instant in the offset the text gave (the publisher's local time; a
    text without one in ``default_tz``), for callers that want the publisher's calendar day."""

    def done(value: dt.datetime) -> dt.datetime:
        if value.tzinfo is None:
            value = value.replace(tzinfo=default_tz)
        return value.astimezone(dt.UTC) if utc else value

    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return done(value)
    if isinstance(value, dt.date):
        return done(dt.datetime(value.year, value.month, value.day))
    if isinstance(value, int | float) or (
        isinstance(value, str) and re.fullmatch(r"\d{10}(?:\.\d+)?", value.strip())
    ):
        try:
            return dt.datetime.fromtimestamp(float(value), tz=dt.UTC)
        except (OverflowError, OSError, ValueError):
            return None
    text = " ".join(str(value).translate(DIGITS).split())
    if not text or len(text) > 120 or not any(ch.isdigit() for ch in text):
        return None
    try:
        return done(dt.datetime.fromisoformat(text.replace("Z", "+00:00")))
    except ValueError:
        pass
    lang = language.lower()
    dayfirst = lang not in MONTH_FIRST_LANGUAGES and bool(lang)
    # Month names in other scripts or languages are dateparser's field; dateutil would skip
    # them as noise and assemble a wrong date from the digits around them.
    foreign_words = any(ch.isalpha() and not ch.isascii() for ch in text)
    reading = None if foreign_words else _dateutil(text, fuzzy=fuzzy, dayfirst=dayfirst)
    if reading is not None:
        parsed, has_year = reading
        if not has_year:
            ref = reference or dt.datetime.now(dt.UTC)
            parsed = parsed.replace(year=ref.year)
            if to_utc(parsed, default_tz) > ref + dt.timedelta(days=1):
                parsed = parsed.replace(year=ref.year - 1)
        return done(parsed)
    if ARABIC_RE.search(text):
        for levantine, gregorian in LEVANTINE_MONTHS.items():
            text = text.replace(levantine, gregorian)
    # A named zone ("… 10:00 MSK") is ours to map: dateparser would return the wall time and
    # drop the offset.
    zone = ZONE_NAME_RE.search(text)
    offset = TZINFOS.get(zone.group(1)) if zone else None
    if zone and offset is not None:
        text = text[: zone.start()] + text[zone.end() :]
    found = _dateparser(text, lang.split("-")[0], reference)
    if found is not None and found.tzinfo is None and offset is not None:
        found = found.replace(tzinfo=dt.timezone(dt.timedelta(seconds=offset)))
    return done(found) if found else None


def date_from_url(url: str) -> dt.datetime | None:
    """A date written into the URL path (``/2016/05/12/``, ``-2016-05-12-``, ``/20160512/``)."""
    for rx in URL_DATE_RES:
        m = rx.search(url)
        if m:
            try:
                return dt.datetime(int(m.group(1)), int(m.group(2)), int(m.group(3)), tzinfo=dt.UTC)
            except ValueError:
                continue
    return None


def plausible(value: dt.datetime | None, fetched_at: dt.datetime) -> bool:
    """Not before 1990, not more than a day after the page was fetched."""
    return value is not None and EARLIEST <= value <= fetched_at + FUTURE_SLACK


def first_plausible(
    candidates: list[tuple[str, dt.datetime | None]], fetched_at: dt.datetime
) -> tuple[str, dt.datetime | None]:
    for source, value in candidates:
        if plausible(value, fetched_at):
            return source, value
    return "", None
