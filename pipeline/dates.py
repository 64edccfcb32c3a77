"""Dates: parse anything a page or feed says into UTC, and refuse the implausible."""

from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache

from dateutil import parser as du_parser

from pipeline.rules import EARLIEST, FUTURE_SLACK, TZINFOS, URL_DATE_RES


def to_utc(value: dt.datetime, default_tz: dt.tzinfo = dt.UTC) -> dt.datetime:
    if value.tzinfo is None:
        value = value.replace(tzinfo=default_tz)
    return value.astimezone(dt.UTC)


@lru_cache(maxsize=4096)
def _dateparser(value: str) -> dt.datetime | None:
    import dateparser

    return dateparser.parse(
        value,
        settings={
            "RETURN_AS_TIMEZONE_AWARE": True,
            "TIMEZONE": "UTC",
            "TO_TIMEZONE": "UTC",
            "PREFER_DATES_FROM": "past",
            "STRICT_PARSING": False,
        },
    )


def parse_datetime(
    value: object, *, default_tz: dt.tzinfo = dt.UTC, fuzzy: bool = False
) -> dt.datetime | None:
    """A datetime in UTC from an ISO string, an RFC 822 feed date, epoch seconds or free text
    in many languages ("5 марта 2024", "5 مارس 2024"). None when it does not parse."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return to_utc(value, default_tz)
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day, tzinfo=default_tz).astimezone(dt.UTC)
    if isinstance(value, int | float) or (
        isinstance(value, str) and re.fullmatch(r"\d{10}(?:\.\d+)?", value.strip())
    ):
        try:
            return dt.datetime.fromtimestamp(float(value), tz=dt.UTC)
        except (OverflowError, OSError, ValueError):
            return None
    text = str(value).strip()
    if not text or len(text) > 120:
        return None
    try:
        return to_utc(dt.datetime.fromisoformat(text.replace("Z", "+00:00")), default_tz)
    except ValueError:
        pass
    try:
        return to_utc(du_parser.parse(text, fuzzy=fuzzy, tzinfos=TZINFOS), default_tz)
    except (ValueError, OverflowError, TypeError):
        pass
    parsed = _dateparser(text)
    return to_utc(parsed, default_tz) if parsed else None


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
