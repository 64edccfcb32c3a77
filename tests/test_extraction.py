"""Extraction: every fixture case field by field, then quality floors over the whole set."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.extraction import load_cases, report, same_day, token_f1
from pipeline.extract import extract_page
from tests.conftest import SITES, run_cli

CASES_DIR = Path(__file__).parent / "fixtures" / "extract"
CASES = load_cases(CASES_DIR)
FLOORS = {
    "authors": 0.95,
    "published": 0.95,
    "title": 0.95,
    "text": 0.9,
    "is_opinion": 0.95,
    "page_type": 0.95,
}


def test_there_are_at_least_40_cases() -> None:
    assert len(CASES) >= 40


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_case(case) -> None:
    r = extract_page(
        case.html, case.url, content_type=case.content_type, fetched_at=case.fetched_at
    )
    e = case.expected
    assert r.page_type == e.get("page_type", "article")
    if not case.is_article:
        return
    assert [a.name for a in r.authors] == e["authors"]
    assert same_day(r.published_at, e["published_at"]) == 1.0, r.published_at
    assert r.title == e["title"]
    assert r.is_opinion == e["is_opinion"], r.opinion_reason
    assert r.language == e["language"]
    assert r.canonical_url == e["canonical_url"]
    assert token_f1(r.text, e["text"]) >= 0.9
    if "published_day" in e:  # the publisher's calendar day, where it differs from UTC's
        assert str(r.published_day) == e["published_day"]
    if "section" in e:
        assert r.section == e["section"]
    if "canonical_target" in e:
        assert r.canonical_target == e["canonical_target"]
    if "modified_at" in e:
        assert (
            r.modified_at is None
            if e["modified_at"] is None
            else same_day(r.modified_at, e["modified_at"])
        )
    if r.published_at is not None:
        assert (
            r.published_at.utcoffset() is not None
            and r.published_at.utcoffset().total_seconds() == 0
        )


def test_quality_floors_and_we_beat_plain_trafilatura_on_authors_and_dates() -> None:
    result = report(CASES_DIR)
    ours, theirs = result["mediawatch"], result["trafilatura"]
    for name, floor in FLOORS.items():
        assert (ours[name] or 0) >= floor, (name, ours[name])
    # The cascade exists to do better than the general extractor it falls back on: by a clear
    # margin where trafilatura is known weak (authors, dates), never worse on titles and text.
    assert (ours["authors"] or 0) >= (theirs["authors"] or 0) + 0.2
    assert (ours["published"] or 0) >= (theirs["published"] or 0) + 0.02
    assert (ours["title"] or 0) >= (theirs["title"] or 0)
    assert (ours["text"] or 0) >= (theirs["text"] or 0) - 0.01


def test_cli_extract_prints_the_contract_object() -> None:
    case = next(c for c in CASES if c.name == "seed_syndicated_oped")
    result = run_cli(
        "extract",
        str(CASES_DIR / case.name / "page.html"),
        "--url",
        case.url + "&utm_source=x",
        "--json",
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert list(data) == [
        "url",
        "canonical_url",
        "title",
        "authors",
        "published_at",
        "modified_at",
        "language",
        "section",
        "is_opinion",
        "text",
        "page_type",
        "opinion_reason",
        "sources",
    ]
    assert data["authors"] == ["Lena Marchetti"] and data["is_opinion"] is True
    assert data["canonical_url"] == case.url


@pytest.mark.parametrize(
    ("title", "page_type"),
    [
        ("500 killed as floods hit the delta", "article"),
        ("Route 404 bus returns after error in timetable", "article"),
        ("Error 404 - Example Daily", "error-page"),
        ("404 Not Found", "error-page"),
        ("Page not found - Example Daily", "error-page"),
        ("Страница не найдена", "error-page"),
        ("الصفحة غير موجودة", "error-page"),
    ],
)
def test_error_pages_are_recognised_by_their_wording_not_by_numbers(
    title: str, page_type: str
) -> None:
    body = (
        "<p>"
        + " ".join(
            f"Sentence {i} of a short report about the weather in the delta." for i in range(12)
        )
        + "</p>"
    )
    html = f"<html lang='en'><head><title>{title}</title></head><body><article><h1>{title}</h1>{body}</article></body></html>"
    assert extract_page(html, "https://daily.example/2024/03/05/story/").page_type == page_type


def test_a_real_page_set_is_scored_beside_trafilatura_with_every_miss_listed(
    tmp_path: Path,
) -> None:
    from bench import extraction_set

    case = next(c for c in CASES if c.name == "seed_syndicated_oped")
    (tmp_path / "pages").mkdir()
    (tmp_path / "pages" / "seed.html").write_bytes(case.html)
    gold = {
        "id": "seed",
        "file": "pages/seed.html",
        "url": case.url,
        "title": case.expected["title"],
        "authors": case.expected["authors"],
        "published": case.expected["published_at"],
        "language": case.expected["language"],
    }
    wrong = {**gold, "id": "wrong", "authors": ["Somebody Else"], "title": "Another title"}
    (tmp_path / "gold.jsonl").write_text(
        json.dumps(gold) + "\n" + json.dumps(wrong) + "\n", "utf-8"
    )
    result = extraction_set.evaluate(tmp_path)
    ours = result["mediawatch"].row()
    assert ours["authors P"] == 0.5 and ours["title exact"] == 0.5
    assert ours["date (same day)"] == 1.0 and ours["language"] == 1.0
    assert [m.split(" ")[0] for m in result["mediawatch"].misses] == ["wrong"]
    table = extraction_set.markdown(tmp_path, result)
    assert "| authors F1 |" in table and "trafilatura" in table and "- wrong (en)" in table


PROSE = "<p>" + "The committee met again on Tuesday to weigh the new water rules. " * 8 + "</p>"


def page(
    head: str = "", body: str = "", lang: str = "en", title: str = "Water rules agreed"
) -> str:
    return (
        f"<html lang='{lang}'><head><title>{title} - Basin Daily</title>"
        f"<meta property='og:site_name' content='Basin Daily'>{head}</head><body>"
        f"<header><h1>Basin Daily</h1></header><article><h1>{title}</h1>{body}{PROSE}</article>"
        "</body></html>"
    )


@pytest.mark.parametrize(
    ("body", "lang", "expected"),
    [
        ("<p>Posted by Alon Zakai.</p>", "en", ["Alon Zakai"]),
        ("<div class='meta'><span>Von Ben Schwan</span></div>", "de", ["Ben Schwan"]),
        (
            "<p class='signature'>Par Martin Untersinger, Damien Leloup et Morgane Tual</p>",
            "fr",
            ["Martin Untersinger", "Damien Leloup", "Morgane Tual"],
        ),
        (
            "<p>Por Andrés Malamud y Martín Schapiro</p>",
            "es",
            ["Andrés Malamud", "Martín Schapiro"],
        ),
        ("<div data-author='Aleš Vávra'></div>", "cs", ["Aleš Vávra"]),
        ("<p class='byline'>By Joe Wee Monday, 3 March 2024</p>", "en", ["Joe Wee"]),
    ],
)
def test_visible_bylines_in_their_common_shapes(body: str, lang: str, expected: list[str]) -> None:
    r = extract_page(page(body=body, lang=lang), "https://basin.example/2024/03/05/water/")
    assert [a.name for a in r.authors] == expected, r.sources


def test_a_byline_with_more_co_authors_than_the_structured_data_wins() -> None:
    ld = (
        '<script type=\'application/ld+json\'>{"@type": "NewsArticle", "headline": '
        '"Water rules agreed", "author": {"@type": "Person", "name": "Lena Roe"}}</script>'
    )
    body = "<p class='byline'>By Lena Roe and Sam Okafor</p>"
    r = extract_page(page(head=ld, body=body), "https://basin.example/2024/03/05/water/")
    assert [a.name for a in r.authors] == ["Lena Roe", "Sam Okafor"]


def test_a_closing_bio_in_spanish_names_the_author() -> None:
    bio = "<p>Andrés Malamud es politólogo e investigador en la Universidad de Lisboa.</p>"
    html = page(body="", lang="es").replace("</article>", bio + "</article>")
    r = extract_page(html, "https://basin.example/opinion/agua/")
    assert [a.name for a in r.authors] == ["Andrés Malamud"]


def test_a_personal_sites_own_name_is_its_author_and_a_masthead_is_not_the_title() -> None:
    ld = (
        '<script type=\'application/ld+json\'>{"@type": "BlogPosting", "headline": '
        '"Get your code covered", "author": {"@type": "Person", "name": "Nicolas Perriault"}}'
        "</script>"
    )
    html = (
        f"<html lang='en'><head><title>Get your code covered | Nicolas Perriault</title>{ld}</head>"
        f"<body><h1>Nicolas Perriault</h1><article><h2>Get your code covered</h2>{PROSE}</article>"
        "</body></html>"
    )
    r = extract_page(html, "https://nicolas.perriault.example/code/2013/covered/")
    assert [a.name for a in r.authors] == ["Nicolas Perriault"]
    assert r.title == "Get your code covered"


def test_titles_escaped_twice_are_decoded_once() -> None:
    head = "<meta property='og:title' content='Talks &amp;quot;resume&amp;quot; in Geneva'>"
    html = f"<html><head>{head}</head><body><article>{PROSE}</article></body></html>"
    r = extract_page(html, "https://basin.example/2024/03/05/talks/")
    assert r.title == 'Talks "resume" in Geneva'


# The query byline_elements replaced, kept as the definition it must agree with.
BYLINE_XPATH = (
    "//*[@rel='author' or @itemprop='author'"
    " or (contains(@class, 'author') and (contains(concat(' ', normalize-space(@class), ' '),"
    " ' author ') or contains(@class, 'author-name') or contains(@class, 'entry-author')"
    " or contains(@class, 'article-author') or contains(@class, 'post-author')"
    " or contains(@class, 'author-link') or contains(@class, 'meta-author')))"
    " or contains(@class, 'byline') or contains(@class, 'by-line') or contains(@class, 'writer')"
    " or contains(@id, 'byline') or contains(@class, 'contributor') or contains(@class, 'posted-by')]"
)
TRICKY_BYLINES = """<html><body>
<div class="x\tauthor\ny">a</div><div class="authorship">b</div><div class="co-author">c</div>
<span class=" author ">d</span><p class="AUTHOR">e</p><p class="entry-author-box">f</p>
<a rel="author nofollow">g</a><a rel="author">h</a><i itemprop="author">i</i>
<div id="main-byline">j</div><div id="Byline">k</div><b class="ghostwriter">l</b>
<!-- class="author" --><div class="author\u00a0x">m</div><div class="by-line">n</div>
</body></html>"""


def test_byline_elements_are_the_ones_the_xpath_query_finds() -> None:
    from lxml import html as lhtml

    from pipeline.bylines import byline_elements
    from pipeline.extract import HTML_PARSER

    pages = [TRICKY_BYLINES.encode()] + [
        p.read_bytes() for p in [*CASES_DIR.glob("*/page.html"), *SITES.rglob("*.html")]
    ]
    assert len(pages) > 60
    for html in pages:
        tree = lhtml.document_fromstring(html, parser=HTML_PARSER)
        assert byline_elements(tree) == tree.xpath(BYLINE_XPATH)
    tricky = lhtml.document_fromstring(TRICKY_BYLINES, parser=HTML_PARSER)
    assert [el.text for el in byline_elements(tricky)] == list("adfhijln")


# The queries dateline_elements and date_class_elements replaced, kept as their definition.
DATELINE_XPATH = (
    "//*[not(*)][(contains(@class,'date') and (contains(@class,'dateline')"
    " or contains(@class,'entry-date') or contains(@class,'post-date')"
    " or contains(@class,'article-date'))) or contains(@class,'published')]"
)
DATE_CLASS_XPATH = (
    "//*[not(*)][(contains(translate(@class,'DATE','date'),'date') or contains(@class,'timestamp')"
    " or @itemprop='datePublished')"
    " and not(contains(translate(@class,'UPDATEMODIF','updatemodif'),'update'))"
    " and not(contains(translate(@class,'UPDATEMODIF','updatemodif'),'modif'))]"
    "[not(ancestor::li or ancestor::aside or ancestor::nav or ancestor::footer"
    " or ancestor::a or ancestor::article[not(.//h1) and count(//article) > 1])]"
)
TRICKY_DATES = """<html><body>
<article><h1>Main</h1><span class="Date">a</span><span class="entry-date published updated">b
</span><span class="post-date"><!-- c --></span><span class="published"><i>d</i></span></article>
<article><span class="DATE">e</span><time datetime="2024-01-02" class="timestamp">f</time>
<span class="date LastUpdated">g</span><span class="Modified-date">h</span></article>
<ul><li><span class="date">i</span></li></ul><aside><span class="date">j</span></aside>
<p itemprop="datePublished">k</p><a href="/x"><span class="date">l</span></a>
<div class="dateline">m</div><div class="article-date">n</div><div class="datum">o</div>
</body></html>"""


def test_date_elements_are_the_ones_the_xpath_queries_find() -> None:
    from lxml import html as lhtml

    from pipeline.extract import HTML_PARSER
    from pipeline.extract.date_cascade import date_class_elements, dateline_elements

    pages = [TRICKY_DATES.encode(), TRICKY_DATES.replace("<article>", "<div>", 1).encode()] + [
        p.read_bytes() for p in [*CASES_DIR.glob("*/page.html"), *SITES.rglob("*.html")]
    ]
    for html in pages:
        tree = lhtml.document_fromstring(html, parser=HTML_PARSER)
        assert dateline_elements(tree) == tree.xpath(DATELINE_XPATH)[:3]
        assert date_class_elements(tree) == tree.xpath(DATE_CLASS_XPATH)[:3]
        assert tree.xpath("(//time[@datetime])[1]/@datetime") == tree.xpath(
            "(//article//time[@datetime] | //time[@datetime])[1]/@datetime"
        )
    tricky = lhtml.document_fromstring(TRICKY_DATES, parser=HTML_PARSER)
    assert [el.text_content().strip() for el in dateline_elements(tricky)] == ["b", "", "m"]
    assert [el.text_content() for el in date_class_elements(tricky)] == ["a", "", "k"]
