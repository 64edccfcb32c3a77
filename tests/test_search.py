"""Search and the SQL views: same data, same answers on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from core.search import Query, QueryError, article_detail, fts5_query, parse_when, run_search
from models import read_session
from tests.conftest import ingest_samples, run_cli

# DESIGN.md: the keys every `search --format json` row has (the web view's /search.json too).
SEARCH_KEYS = {
    "id",
    "url",
    "title",
    "outlet",
    "authors",
    "published_at",
    "is_opinion",
    "language",
    "entities",
    "appearances",
}


@pytest.fixture
def data(engine: Engine, db_url: str, tmp_path: Path) -> Engine:
    ingest_samples(engine, tmp_path, db_url)
    return engine


def titles(engine: Engine, **kw: object) -> list[str]:
    return [r["title"] for r in run_search(engine, Query.build(**kw))]  # type: ignore[arg-type]


def test_full_text_is_ranked_and_combines_with_filters(data: Engine) -> None:
    got = titles(data, text="Geneva talks")
    assert got[0] == "The road back to Geneva runs through Aleppo"
    assert titles(data, text="geneva", opinion=True) == [
        "The road back to Geneva runs through Aleppo"
    ]
    assert titles(data, text="pumping stations") == []  # all terms are required
    assert titles(data, text="pumping station") == [
        "Water is the next front line in the Euphrates valley"
    ]


def test_entity_filters_work_across_languages(data: Engine) -> None:
    lavrov = titles(data, actors=["Sergei Lavrov"])
    assert set(lavrov) >= {
        "The road back to Geneva runs through Aleppo",
        "Лавров обсудил с коллегами ситуацию вокруг Алеппо",
        "الطريق إلى جنيف يمر عبر حلب",
    }
    assert titles(data, actors=["lavrov"]) == lavrov  # by alias, any case
    both = titles(data, actors=["Sergei Lavrov"], places=["حلب"])
    assert set(both) <= set(lavrov) and both
    assert titles(data, places=["Sergei Lavrov"]) == []  # an actor is not a place


def test_outlet_author_language_and_dates(data: Engine) -> None:
    # Outlet filter covers republications: the observatory reposted the op-ed.
    assert "The road back to Geneva runs through Aleppo" in titles(data, outlets=["observatory"])
    assert titles(data, author="Ирина Соколова") == [
        "Почему Москве невыгодна большая война в Сирии"
    ]
    assert titles(data, author="mira salem") == ["Sanctions that hurt the wrong people"]
    assert set(titles(data, language="ar")) == {
        "الطريق إلى جنيف يمر عبر حلب",
        "هدوء حذر في ريف حلب بعد أيام من القصف",
    }
    march5 = titles(data, since="2024-03-05", until="2024-03-05")
    assert (
        "Monitors report a fragile calm in Idlib" in march5
        and "Defence ministers meet in Tehran" not in march5
    )


def test_rows_have_the_contract_shape(data: Engine) -> None:
    (row,) = run_search(data, Query.build(text="road back Geneva"))
    assert set(row) >= SEARCH_KEYS
    assert row["outlet"] == "meridian" and row["authors"] == ["Lena Marchetti"]
    assert {a["outlet"] for a in row["appearances"]} == {"meridian", "observatory"}
    assert "Sergei Lavrov" in row["entities"] and row["published_at"].startswith("2024-03-04")
    detail = article_detail(data, row["id"])
    assert detail is not None and detail["mentions"] and detail["text"]


@pytest.mark.parametrize(
    "hostile",
    [
        '"',
        "' OR 1=1 --",
        "NEAR(a b)",
        "title:*",
        "a AND OR NOT",
        "\x00",
        ")); DROP TABLE articles; --",
        "%_",
    ],
)
def test_hostile_input_is_harmless(data: Engine, hostile: str) -> None:
    run_search(data, Query.build(text=hostile))
    run_search(data, Query.build(actors=[hostile], author=hostile, outlets=[hostile]))
    with read_session(data) as s:
        assert s.execute(text("SELECT count(*) FROM articles")).scalar() == 10


def test_views_answer_the_analysts_questions(data: Engine) -> None:
    with read_session(data) as s:
        rows = s.execute(
            text(
                "SELECT outlet, authors, appearances FROM v_articles WHERE title LIKE 'The road back%'"
            )
        ).all()
        assert [tuple(r) for r in rows] == [("meridian", "Lena Marchetti", 2)]
        originals = s.execute(
            text(
                "SELECT outlet, is_original FROM v_appearances a JOIN articles x ON x.id = a.article_id WHERE x.title LIKE 'The road back%' ORDER BY outlet"
            )
        ).all()
        assert [tuple(r) for r in originals] == [("meridian", 1), ("observatory", 0)]
        together = s.execute(
            text(
                "SELECT count(*) FROM v_mentions a JOIN v_mentions b ON a.article_id = b.article_id "
                "WHERE a.entity = 'Sergei Lavrov' AND b.entity = 'John Kerry' AND a.is_opinion"
            )
        ).scalar()
        assert together == 1


def test_dates_and_fts_helpers() -> None:
    assert parse_when("7d") is not None and parse_when("2024-03-05") is not None
    with pytest.raises(QueryError):
        parse_when("last tuesday-ish")
    assert fts5_query('"road back" geneva*') == '"road back" AND "geneva"*'
    assert fts5_query('geneva OR aleppo -"war crimes" NEAR') == (
        '("geneva" OR "aleppo") AND "near" NOT "war crimes"'
    )
    with pytest.raises(QueryError):
        Query.build(text="-only -exclusions")


@pytest.mark.parametrize(
    "actor",
    ["Лавров", "лавров", "ЛАВРОВ", "Сергей Лавров", "لافروف", "سيرغي لافروف", "LAVROV"],
)
def test_actor_aliases_in_any_script_and_case(data: Engine, actor: str) -> None:
    # SQLite's lower() folds ASCII only: names are compared by a key folded in Python.
    assert "Лавров обсудил с коллегами ситуацию вокруг Алеппо" in titles(data, actors=[actor])


@pytest.mark.parametrize("place", ["Алеппо", "алеппо", "حلب", "ALEPPO"])
def test_place_aliases_in_any_script_and_case(data: Engine, place: str) -> None:
    assert "الطريق إلى جنيف يمر عبر حلب" in titles(data, places=[place])


QUERIES = [
    "geneva",
    "Geneva aleppo",
    '"road back"',
    '"back road"',
    "geneva OR idlib",
    "aleppo -geneva",
    'aleppo -"road back"',
    "negot*",
    "pump*",
    "лавров OR حلب",
]


def test_the_query_language_means_the_same_on_both_dialects(
    sqlite_url: str, pg_url: str, tmp_path: Path
) -> None:
    from models import make_engine

    answers = []
    for i, url in enumerate((sqlite_url, pg_url)):
        engine = make_engine(url)
        folder = tmp_path / str(i)
        folder.mkdir()
        ingest_samples(engine, folder, url, flag_them=False)
        answers.append({q: sorted(titles(engine, text=q, limit=100)) for q in QUERIES})
        engine.dispose()
    sqlite_answers, pg_answers = answers
    assert sqlite_answers == pg_answers
    # and they mean what the docs say
    assert sqlite_answers['"back road"'] == []
    assert sqlite_answers['"road back"'] == ["The road back to Geneva runs through Aleppo"]
    assert set(sqlite_answers["geneva OR idlib"]) > set(sqlite_answers["geneva"])
    assert "The road back to Geneva runs through Aleppo" not in sqlite_answers["aleppo -geneva"]
    assert sqlite_answers["pump*"]


def test_cli_search_says_what_it_left_out_and_what_it_does_not_know(
    data: Engine, tmp_path: Path
) -> None:
    cfg = tmp_path / "mediawatch.toml"
    some = run_cli("search", "--limit", "2", config=cfg)
    assert some.returncode == 0 and "2 of 10 shown (use --limit)" in some.stderr
    typo = run_cli("search", "--actor", "Lavrof", "--outlet", "meridain", config=cfg)
    assert typo.returncode == 0
    assert "no tracked actor is named 'Lavrof' (closest: Sergei Lavrov)" in typo.stderr
    assert "no outlet 'meridain' (closest: meridian)" in typo.stderr
    upper = run_cli("search", "--outlet", "VESTI", "--lang", "RU", "--format", "json", config=cfg)
    assert upper.returncode == 0 and len(json.loads(upper.stdout)) == 2
    for bad in ("99999999d", "0001-01-01"):
        out = run_cli("search", "--since", bad, config=cfg)
        assert out.returncode == 2 and "out of range" in out.stderr
        assert "Traceback" not in out.stderr


def test_cli_search_formats(data: Engine, db_url: str, tmp_path: Path) -> None:
    cfg = tmp_path / "mediawatch.toml"
    out = run_cli("search", "--actor", "Sergei Lavrov", "--format", "json", config=cfg)
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)
    assert isinstance(rows, list) and rows
    jl = run_cli("search", "geneva", "--format", "jsonl", config=cfg)
    assert jl.returncode == 0 and jl.stdout.strip(), jl.stderr
    assert all(json.loads(line)["id"] for line in jl.stdout.splitlines())
    csv_out = run_cli("search", "--lang", "ru", "--format", "csv", config=cfg)
    assert csv_out.returncode == 0, csv_out.stderr
    lines = csv_out.stdout.splitlines()
    assert lines[0].startswith("id,published_at,outlet,title") and len(lines) == 3
    bad = run_cli("search", "--since", "someday", config=cfg)
    assert bad.returncode == 2 and "not a date" in bad.stderr
