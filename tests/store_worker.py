"""A separate process that stores pages (for the concurrency and crash tests).

python -m tests.store_worker DB_URL START_AT {sample|synthetic N}
"""

from __future__ import annotations

import random
import sys
import time

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from models import Outlet, in_transaction, insert_ignore, make_engine
from pipeline.extract import extract_page
from pipeline.store import FetchInfo, store_page
from tests.conftest import sample_page

SAMPLE = [
    ("meridian", "meridian/opinion/2024/03/04/the-road-back-to-geneva/amp/index.html"),
    ("observatory", "observatory/p/101.html"),
    ("observatory", "observatory/p/102.html"),
    ("observatory", "observatory/p/103.html"),
    ("observatory", "observatory/p/104.html"),
    ("meridian", "meridian/world/2024/03/05/monitors-report-calm-in-idlib/index.html"),
]


def synthetic_page(i: int) -> tuple[str, str]:
    rng = random.Random(i)
    vocab = [f"w{n}" for n in range(3000)]
    paras = [" ".join(rng.choice(vocab) for _ in range(60)) + "." for _ in range(4)]
    body = "".join(f"<p>{p}</p>" for p in paras)
    html = (
        f"<html lang='en'><head><title>Synthetic {i}</title><meta property='og:type' content='article'>"
        f"<meta property='article:published_time' content='2024-03-05T08:00:00Z'></head>"
        f"<body><article><h1>Synthetic story {i}</h1><p class='byline'>By Jane Roe</p>{body}</article></body></html>"
    )
    return html, f"http://sample.test/synthetic/2024/03/05/story-{i}/"


def outlet_ids(engine: Engine) -> dict[str, int]:
    def work(s: Session) -> dict[str, int]:
        out = {}
        for slug in ("meridian", "observatory", "synthetic"):
            insert_ignore(
                s,
                Outlet,
                {
                    "slug": slug,
                    "name": slug.title(),
                    "url": f"http://sample.test/{slug}/",
                    "feeds": [],
                    "sitemaps": [],
                    "sections": [],
                    "article_patterns": [],
                    "opinion_patterns": [],
                    "selectors": {},
                },
                ["slug"],
            )
            out[slug] = s.query(Outlet.id).filter(Outlet.slug == slug).scalar()
        return out

    return in_transaction(engine, work)


def main() -> None:
    db_url, start_at, mode = sys.argv[1], float(sys.argv[2]), sys.argv[3]
    engine = make_engine(db_url)
    ids = outlet_ids(engine)
    if mode == "sample":
        pages = [(ids[slug], *sample_page(rel)) for slug, rel in SAMPLE]
        extracted = [(oid, extract_page(body, url), url) for oid, body, url in pages]
    else:
        n = int(sys.argv[4])
        extracted = [
            (ids["synthetic"], extract_page(html, url), url)
            for html, url in (synthetic_page(i) for i in range(n))
        ]
    time.sleep(max(0.0, start_at - time.time()))
    for oid, page, url in extracted:
        result = store_page(engine, oid, page, FetchInfo(url))
        print(result.status, flush=True)


if __name__ == "__main__":
    main()
