"""Watchlist matching: table-driven cases in English, Arabic and Russian, then the flag job."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, func, select

from core.flagging import flag
from core.sync import upsert_entity
from models import Article, Mention, WatchEntity, in_transaction, read_session
from pipeline.flag import AliasSpec, Matcher, mentions_in

WATCH = {
    1: ["Iran", "Tehran", "إيران", "طهران", "Иран", "Тегеран"],
    2: ["Russia", "Moscow", "روسيا", "موسكو", "Россия", "Москва"],
    3: ["Sergei Lavrov", "Lavrov", "لافروف", "Лавров", "Сергей Лавров"],
    4: ["Aleppo", "حلب", "Алеппо"],
    5: ["Raqqa", "الرقة", "Ракка"],
    6: ["Jabhat al-Nusra", "Jabhat an-Nusra", "جبهة النصرة"],
    7: ["Islamic State", "داعش", "ИГИЛ"],
    8: ["Rus"],
    9: ["São Paulo"],
    10: ["Syria", "سوريا", "Сирия"],
    11: ["John Kerry", "Kerry"],
    12: ["Geneva", "جنيف", "Женева"],
}
CASE_SENSITIVE = {13: ["US"], 14: ["IS", "ISIS"], 15: ["UN"], 7: ["ISIL"]}
SPECS = [AliasSpec(e, a) for e, aliases in WATCH.items() for a in aliases] + [
    AliasSpec(e, a, case_sensitive=True) for e, aliases in CASE_SENSITIVE.items() for a in aliases
]
MATCHER = Matcher(SPECS)


def found(text: str) -> list[tuple[int, str]]:
    return [(m.entity_id, text[m.start : m.end]) for m in MATCHER.find(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # whole words only
        ("Iranian officials met in Tehran.", [(1, "Tehran")]),
        ("The Russians and Russia.", [(2, "Russia")]),
        ("Rus inside Russia is not Rus.", [(8, "Rus"), (2, "Russia"), (8, "Rus")]),
        ("Kerryville is a town; Kerry is a man.", [(11, "Kerry")]),
        # longest match wins its span
        ("Sergei Lavrov spoke; Lavrov again.", [(3, "Sergei Lavrov"), (3, "Lavrov")]),
        ("Jabhat an-Nusra fighters", [(6, "Jabhat an-Nusra")]),
        # case and diacritics
        (
            "SAO PAULO and são paulo and Sao Paulo",
            [(9, "SAO PAULO"), (9, "são paulo"), (9, "Sao Paulo")],
        ),
        ("moscow, MOSCOW", [(2, "moscow"), (2, "MOSCOW")]),
        # case-sensitive acronyms
        (
            "let us ask the US and the UN if it is IS or ISIS",
            [(13, "US"), (15, "UN"), (14, "IS"), (14, "ISIS")],
        ),
        ("Us, un, is, Isis", []),
        ("ISIL fighters", [(7, "ISIL")]),
        # Arabic: proclitics, hamza and alef variants, not inside other words
        ("وصل الوفد إلى حلب وبحلب ولحلب", [(4, "حلب"), (4, "حلب"), (4, "حلب")]),
        ("الحلبي وحلبا", []),
        ("وإيران وايران وبإيران", [(1, "إيران"), (1, "ايران"), (1, "إيران")]),
        ("الإيرانيون", []),
        ("والرقة وبالرقة", [(5, "الرقة"), (5, "الرقة")]),
        ("قال لافروف إن موسكو", [(3, "لافروف"), (2, "موسكو")]),
        ("تنظيم داعش وجبهة النصرة", [(7, "داعش"), (6, "جبهة النصرة")]),
        ("إيـــران", [(1, "إيـــران")]),  # tatweel
        ("حَلَب", [(4, "حَلَب")]),  # harakat
        # Russian inflections
        (
            "Лаврова, Лаврову, Лавровым, Лавров.",
            [(3, "Лаврова"), (3, "Лаврову"), (3, "Лавровым"), (3, "Лавров")],
        ),
        (
            "в Москве, из Москвы, Москву, Москвой",
            [(2, "Москве"), (2, "Москвы"), (2, "Москву"), (2, "Москвой")],
        ),
        ("москвич и Лаврентий", []),
        ("Сергея Лаврова", [(3, "Лаврова")]),
        ("в Сирии и Женеве", [(10, "Сирии"), (12, "Женеве")]),
        ("Ёж в Тегеране", [(1, "Тегеране")]),
    ],
)
def test_matcher(text: str, expected: list[tuple[int, str]]) -> None:
    assert found(text) == expected


SEED_SHAPED = (
    "The defence ministers of Russia, Iran and Syria met in Tehran, and rumours spread that the three "
    "wanted to take Aleppo. The Geneva talks are stuck while Jabhat al-Nusra holds out. "
    "US Secretary of State John Kerry said his patience was limited; the next day Foreign Minister "
    "Sergei Lavrov urged Washington to be patient. NATO is ready to fight the Islamic State (ISIS) in Syria. "
    "After Palmyra, Raqqa is next. Moscow, Tehran and Damascus are not interested in a bloodbath. "
    "Russian and Iranian diplomats were absent."
)


def test_seed_shaped_oped_names_every_actor_and_place_once_per_entity() -> None:
    ms = mentions_in(
        MATCHER, "Russian, Iranian and Assad camps lose interest in diplomacy", SEED_SHAPED
    )
    by = {m.entity_id: m for m in ms}
    assert set(by) == {1, 2, 3, 4, 5, 6, 7, 10, 11, 12, 13, 14}
    assert by[2].count == 2 and by[1].count == 3  # Russia + Moscow; Iran + Tehran twice
    assert not any(m.in_title for m in ms)  # "Russian", "Iranian" are not "Russia", "Iran"
    assert "⟦Sergei Lavrov⟧" in by[3].snippet
    start, end = by[4].offsets[0]
    assert SEED_SHAPED[start:end] == "Aleppo"


def _add_article(engine: Engine, title: str, text: str) -> int:
    def work(s) -> int:
        a = Article(title=title, text=text, content_hash=str(hash(text)))
        s.add(a)
        s.flush()
        return a.id

    return in_transaction(engine, work)


def _mentions(engine: Engine) -> set[tuple[int, str, int]]:
    with read_session(engine) as s:
        return {
            tuple(r)
            for r in s.execute(
                select(Mention.article_id, WatchEntity.name, Mention.count).join(WatchEntity)
            )
        }


def test_flag_job_is_idempotent_and_rematches_only_what_a_watchlist_change_affects(
    engine: Engine,
) -> None:
    in_transaction(
        engine,
        lambda s: upsert_entity(
            s, "Aleppo", "place", [("Aleppo", "", False), ("حلب", "ar", False)], from_config=True
        ),
    )
    a1 = _add_article(engine, "Siege of Aleppo", "Aleppo is quiet. Lavrov spoke in Moscow.")
    a2 = _add_article(engine, "حلب اليوم", "هدوء في حلب")
    first = flag(engine)
    assert first.counts["articles"] == 2 and first.counts["flagged"] == 2
    assert _mentions(engine) == {(a1, "Aleppo", 2), (a2, "Aleppo", 2)}
    assert flag(engine).counts["articles"] == 0  # nothing new, nothing changed

    # A new entity: only the archive is re-matched, for that entity only.
    in_transaction(
        engine,
        lambda s: upsert_entity(
            s, "Sergei Lavrov", "actor", [("Lavrov", "", False)], from_config=False
        ),
    )
    second = flag(engine)
    assert second.counts["rematched"] == 2 and second.counts["entities_changed"] == 1
    assert (a1, "Sergei Lavrov", 1) in _mentions(engine)

    # Disabling an entity removes its mentions from the archive.
    def disable(s) -> None:
        s.scalars(select(WatchEntity).where(WatchEntity.name == "Aleppo")).one().enabled = False

    in_transaction(engine, disable)
    flag(engine)
    assert _mentions(engine) == {(a1, "Sergei Lavrov", 1)}

    # --all rebuilds everything from scratch, with the same result.
    flag(engine, rematch_all=True)
    assert _mentions(engine) == {(a1, "Sergei Lavrov", 1)}
    with read_session(engine) as s:
        assert (
            s.scalar(select(func.count()).select_from(Article).where(Article.flagged_at.is_(None)))
            == 0
        )


def test_an_unchanged_watchlist_is_not_compiled_again(engine: Engine, tmp_path) -> None:
    from core.matchercache import MatcherCache

    cache = MatcherCache(tmp_path / "cache")
    in_transaction(
        engine,
        lambda s: upsert_entity(
            s, "Aleppo", "place", [("Aleppo", "", False), ("حلب", "ar", False)], from_config=True
        ),
    )
    a1 = _add_article(engine, "Siege of Aleppo", "Aleppo is quiet.")
    assert "matcher_cached" not in flag(engine, cache=cache).counts  # first run compiles
    assert list((tmp_path / "cache").glob("matcher-*.pickle"))
    a2 = _add_article(engine, "حلب اليوم", "هدوء في حلب")
    second = flag(engine, cache=cache)
    assert second.counts["matcher_cached"] == 1 and second.counts["articles"] == 1
    assert _mentions(engine) == {(a1, "Aleppo", 2), (a2, "Aleppo", 2)}
    # Any watchlist change is a new fingerprint: compiled again, and the archive re-matched.
    in_transaction(
        engine,
        lambda s: upsert_entity(
            s, "Sergei Lavrov", "actor", [("Lavrov", "", False)], from_config=False
        ),
    )
    third = flag(engine, cache=cache)
    assert "matcher_cached" not in third.counts and third.counts["entities_changed"] == 1
    # A torn cache file only means a rebuild.
    for f in (tmp_path / "cache").glob("matcher-*.pickle"):
        f.write_bytes(b"not a pickle")
    a3 = _add_article(engine, "Aleppo again", "Aleppo and Lavrov.")
    assert "matcher_cached" not in flag(engine, cache=cache).counts
    assert {(a3, "Aleppo", 2), (a3, "Sergei Lavrov", 1)} <= _mentions(engine)
