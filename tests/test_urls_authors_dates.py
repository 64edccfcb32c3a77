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
        ("Text: Jana Nováková", ["Jana Nováková"]),
        ("Texte : Jeanne Roux", ["Jeanne Roux"]),
        ("Авторы: Мария Иванова и Пётр Смирнов", ["Мария Иванова", "Пётр Смирнов"]),
        ("كتبت: سارة أحمد", ["سارة أحمد"]),
        (
            "Par Claire Dumas (avec Hugo Lefèvre et Inès Morel)",
            ["Claire Dumas", "Hugo Lefèvre", "Inès Morel"],
        ),
        ("by Tamsin Reyes (reporting) and Oliver Hart (photography)", ["Tamsin Reyes"]),
        ("Harriet Vale (https://vale.example/about/)", ["Harriet Vale"]),
        ("김철수 기자", ["김철수"]),
        ("記者 山田太郎", ["山田太郎"]),
        ("作者︱林晓", ["林晓"]),
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


REF = dt.datetime(2025, 1, 10, 12, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize("text", ["12:06", "Updated 12:06", "14:05 MSK", "at 9:30 pm"])
def test_a_time_of_day_alone_never_becomes_a_date(text: str) -> None:
    assert parse_datetime(text, fuzzy=True, reference=REF) is None


def test_relative_dates_count_from_the_fetch_not_from_now() -> None:
    got = parse_datetime("yesterday at 9:30", fuzzy=True, reference=REF)
    assert got is not None and got.date() == dt.date(2025, 1, 9)


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        ("4 июня 2024, 12:00", "ru", "2024-06-04T12:00:00+00:00"),
        ("03.03.2021, 14:05", "ru", "2021-03-03T14:05:00+00:00"),
        ("٥ مارس ٢٠٢٤", "ar", "2024-03-05T00:00:00+00:00"),
        ("الثلاثاء 12 تشرين الأول 2021", "ar", "2021-10-12T00:00:00+00:00"),
        ("5 آذار 2024", "ar", "2024-03-05T00:00:00+00:00"),
        ("12 mars 2021", "fr", "2021-03-12T00:00:00+00:00"),
        ("5. März 2021", "de", "2021-03-05T00:00:00+00:00"),
        ("14 Ekim 2023", "tr", "2023-10-14T00:00:00+00:00"),
        ("5 de março de 2021", "pt", "2021-03-05T00:00:00+00:00"),
        ("03/04/2021", "en", "2021-03-04T00:00:00+00:00"),
        ("03/04/2021", "fr", "2021-04-03T00:00:00+00:00"),
        ("March 5, 2024 10:30 a.m. ET", "en", "2024-03-05T15:30:00+00:00"),
        ("March 5, 2024 10:30 PT", "en", "2024-03-05T18:30:00+00:00"),
        ("5 March 2024 16:00 IST", "en", "2024-03-05T10:30:00+00:00"),
        ("3 марта 2021 10:00 MSK", "ru", "2021-03-03T07:00:00+00:00"),  # month name and zone
        (
            "Posted on Tuesday 15 October 2019 at 09:11 by Jane M. Roe",
            "en",
            "2019-10-15T09:11:00+00:00",
        ),
        ("Dec 30", "en", "2024-12-30T00:00:00+00:00"),  # no year: the last 30 December
        ("Jan 8", "en", "2025-01-08T00:00:00+00:00"),
    ],
)
def test_visible_datelines_in_the_page_language(text: str, language: str, expected: str) -> None:
    got = parse_datetime(text, fuzzy=True, language=language, reference=REF)
    assert got is not None and got.isoformat() == expected
