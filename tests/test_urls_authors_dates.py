from __future__ import annotations

import datetime as dt

import pytest

from pipeline.authors import parse_byline
from pipeline.dates import date_from_url, parse_datetime, plausible
from pipeline.textnorm import author_key
from pipeline.urls import canonicalize, is_amp, strip_amp


@pytest.mark.parametrize(
    ("url", "canonical"),
    [
        ("HTTP://Example.COM:80/a/b/?utm_source=x&b=2&a=1#frag", "http://example.com/a/b/?a=1&b=2"),
        (
            "https://ex.org:443/x?fbclid=1&gclid=2&yclid=3&mc_cid=4&mc_eid=5&_ga=6&igshid=7",
            "https://ex.org/x",
        ),
        ("https://ex.org/en/?p=123&utm_medium=rss&utm_campaign=feed", "https://ex.org/en/?p=123"),
        ("https://ex.org/path%7Efoo/?q=a%20b", "https://ex.org/path~foo/?q=a+b"),
        ("https://ex.org:8443/x", "https://ex.org:8443/x"),
    ],
)
def test_canonicalize(url: str, canonical: str) -> None:
    assert canonicalize(url) == canonical
    assert canonicalize(canonical) == canonical  # idempotent


@pytest.mark.parametrize(
    ("url", "plain"),
    [
        ("https://ex.org/2024/01/02/story/amp/", "https://ex.org/2024/01/02/story/"),
        ("https://amp.ex.org/2024/01/02/story/", "https://ex.org/2024/01/02/story/"),
        ("https://ex.org/story.amp.html", "https://ex.org/story.html"),
        ("https://m.ex.org/story?amp=1", "https://ex.org/story"),
    ],
)
def test_amp_and_mobile_variants(url: str, plain: str) -> None:
    assert is_amp(url) or url.startswith("https://m.")
    assert strip_amp(url) == plain


@pytest.mark.parametrize(
    ("byline", "names"),
    [
        ("By Jane Roe and John Doe, Reuters", ["Jane Roe", "John Doe", "Reuters"]),
        ("By JANE ROE | March 5, 2024", ["Jane Roe"]),
        ("Jane Roe, Senior Correspondent", ["Jane Roe"]),
        ("By Ahmed al-Hassan & Sara Kim", ["Ahmed al-Hassan", "Sara Kim"]),
        ("Daniel Okafor, Mira Salem", ["Daniel Okafor", "Mira Salem"]),
        ("Автор: Ирина Соколова", ["Ирина Соколова"]),
        ("Иван Петров и Анна Смирнова", ["Иван Петров", "Анна Смирнова"]),
        ("بقلم: سامي الخطيب", ["سامي الخطيب"]),
        ("By Jane Roe (jane@daily.example) @janeroe", ["Jane Roe"]),
        ("Staff", []),
        ("Admin", []),
        ("The Levant Rights Observatory", []),
        ("Home Menu Search", []),
        ("Russia warns the West over talks", []),
        ("Share this article", []),
        ("دمشق - مراسل الوطن", []),
    ],
)
def test_parse_byline(byline: str, names: list[str]) -> None:
    got = parse_byline(byline, site_names=["The Levant Rights Observatory", "Example Daily"])
    assert [a.name for a in got] == names


def test_agencies_are_organisation_authors() -> None:
    (reuters,) = parse_byline("Reuters")
    assert reuters.is_organization
    assert parse_byline("AFP")[0].name == "AFP"


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Maria Dubovikova", "Мария Дубовикова"),
        ("Sergei Lavrov", "Сергей Лавров"),
        ("Sergey Lavrov", "SERGEI LAVROV"),
        ("José Álvarez", "Jose Alvarez"),
        ("Ahmed al-Hassan", "Ahmed Al Hassan"),
    ],
)
def test_author_key_joins_spellings_of_one_person(a: str, b: str) -> None:
    assert author_key(a) == author_key(b)


def test_author_key_keeps_different_people_apart() -> None:
    assert author_key("Jane Roe") != author_key("John Roe")


@pytest.mark.parametrize(
    ("value", "iso"),
    [
        ("2024-03-05T08:00:00+03:00", "2024-03-05T05:00:00+00:00"),
        ("Tue, 05 Mar 2024 08:00:00 GMT", "2024-03-05T08:00:00+00:00"),
        ("March 5, 2024 10:15 am EST", "2024-03-05T15:15:00+00:00"),
        ("5 марта 2024", "2024-03-05T00:00:00+00:00"),
        ("5 مارس 2024", "2024-03-05T00:00:00+00:00"),
        ("1709625600", "2024-03-05T08:00:00+00:00"),
    ],
)
def test_parse_datetime_to_utc(value: str, iso: str) -> None:
    got = parse_datetime(value)
    assert got is not None and got.isoformat() == iso


def test_dates_in_urls_and_plausibility() -> None:
    assert date_from_url("https://x.org/2016/05/12/slug/") == dt.datetime(
        2016, 5, 12, tzinfo=dt.UTC
    )
    assert date_from_url("https://x.org/news/20160512/slug") == dt.datetime(
        2016, 5, 12, tzinfo=dt.UTC
    )
    assert date_from_url("https://x.org/2016/13/40/slug/") is None
    fetched = dt.datetime(2024, 3, 5, tzinfo=dt.UTC)
    assert plausible(fetched + dt.timedelta(hours=20), fetched)
    assert not plausible(fetched + dt.timedelta(days=2), fetched)
    assert not plausible(dt.datetime(1989, 12, 31, tzinfo=dt.UTC), fetched)
