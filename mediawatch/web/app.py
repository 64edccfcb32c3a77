"""The analysts' web view: an ASGI app (Starlette), server-rendered with Jinja2, read-only.

Routes are a contract like the CLI's (DESIGN.md): ``/``, ``/search`` (and ``.csv``/``.json``
with the CLI's columns and keys), ``/articles/{id}``, ``/entities/{id}``, ``/outlets/{slug}``,
``/authors/{id}``, ``/healthz``. It uses the same search, read-model and insight code as the
CLI; every value is escaped by Jinja's autoescape; the database connection is read-only.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup, escape
from sqlalchemy import Engine, select, text
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from core.insights import author_overview, entity_overview, outlet_overview
from core.readmodel import ArticleView, load_articles
from core.search import CSV_COLUMNS, Query, QueryError, csv_row, search
from mediawatch.web.auth import AuthMiddleware, WebAuth, login, logout
from mediawatch.web.charts import stacked_bars
from models import Outlet, WatchEntity, read_session

PAGE_SIZE = 25
EXPORT_LIMIT = 10_000
TEMPLATES = Path(__file__).with_name("templates")


def _env() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"], default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["date"] = lambda d: d.strftime("%Y-%m-%d") if d else "—"
    env.filters["datetime"] = lambda d: d.strftime("%Y-%m-%d %H:%M UTC") if d else "—"
    env.filters["pct"] = lambda x: "—" if x is None else f"{x:.0%}"
    env.filters["svg"] = Markup  # our own pygal output, never user text
    return env


ENV = _env()


def render(request: Request, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    context.setdefault("user", request.session.get("user") if "session" in request.scope else None)
    return HTMLResponse(ENV.get_template(name).render(request=request, **context), status_code)


def query_from(request: Request, *, limit: int, paged: bool = False) -> tuple[Query, int]:
    """The CLI's filters from the URL: q, actor, place, outlet, author, since, until, opinion,
    lang, and with ``paged`` the page (actor/place/outlet may repeat). Exports are not paged."""
    params = request.query_params
    try:
        page = max(1, int(params.get("page") or 1))
    except ValueError:
        page = 1
    q = Query.build(
        text=params.get("q", ""),
        actors=[a for a in params.getlist("actor") if a.strip()],
        places=[p for p in params.getlist("place") if p.strip()],
        outlets=[o for o in params.getlist("outlet") if o.strip()],
        author=params.get("author") or None,
        since=params.get("since") or None,
        until=params.get("until") or None,
        opinion=params.get("opinion") in ("1", "true", "on"),
        language=params.get("lang") or None,
        limit=limit,
    )
    q.offset = (page - 1) * limit if paged else 0
    return q, page


def engine_of(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


async def home(request: Request) -> HTMLResponse:
    with read_session(engine_of(request)) as s:
        actors = list(
            s.scalars(
                select(WatchEntity).where(WatchEntity.kind == "actor").order_by(WatchEntity.name)
            )
        )
        places = list(
            s.scalars(
                select(WatchEntity).where(WatchEntity.kind == "place").order_by(WatchEntity.name)
            )
        )
        outlets = list(s.scalars(select(Outlet).order_by(Outlet.slug)))
    outcome = search(engine_of(request), Query(limit=10), count=False)
    return render(
        request,
        "home.html",
        actors=actors,
        places=places,
        outlets=outlets,
        latest=outcome.rows,
        params={},
    )


async def search_page(request: Request) -> HTMLResponse:
    try:
        q, page = query_from(request, limit=PAGE_SIZE, paged=True)
    except QueryError as exc:
        return render(
            request,
            "search.html",
            400,
            error=str(exc),
            params=request.query_params,
            rows=[],
            total=0,
            page=1,
            pages=1,
            links={},
        )
    outcome = search(engine_of(request), q)
    pages = max(1, -(-outcome.total // PAGE_SIZE))
    base = [(k, v) for k, v in request.query_params.multi_items() if k != "page"]

    def link(target: str, number: int | None = None) -> str:
        extra = [("page", str(number))] if number else []
        return f"{target}?{urlencode(base + extra)}"

    return render(
        request,
        "search.html",
        rows=outcome.rows,
        total=outcome.total,
        warnings=outcome.warnings,
        page=page,
        pages=pages,
        params=request.query_params,
        links={
            "prev": link("/search", page - 1) if page > 1 else "",
            "next": link("/search", page + 1) if page < pages else "",
            "csv": link("/search.csv"),
            "json": link("/search.json"),
        },
    )


def _export_rows(request: Request) -> list[dict[str, Any]]:
    q, _ = query_from(request, limit=_export_limit(request))
    return search(engine_of(request), q, count=False).rows


def _export_limit(request: Request) -> int:
    try:
        return max(1, min(int(request.query_params.get("limit") or EXPORT_LIMIT), EXPORT_LIMIT))
    except ValueError:
        return EXPORT_LIMIT


async def search_csv(request: Request) -> Response:
    try:
        rows = _export_rows(request)
    except QueryError as exc:
        return Response(f"error: {exc}\n", 400, media_type="text/plain")
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(CSV_COLUMNS)
    writer.writerows(csv_row(r) for r in rows)
    return Response(
        buf.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="mediawatch-search.csv"'},
    )


async def search_json(request: Request) -> Response:
    try:
        rows = _export_rows(request)
    except QueryError as exc:
        return JSONResponse({"error": str(exc)}, 400)
    return Response(json.dumps(rows, ensure_ascii=False), media_type="application/json")


def highlighted(view: ArticleView, offsets: list[tuple[int, int, int]]) -> Markup:
    """The text with the stored mention offsets wrapped in <mark> (escaped everywhere else)."""
    out: list[str] = []
    pos = 0
    for start, end, entity_id in sorted(offsets):
        if start < pos or end > len(view.text):
            continue
        out.append(str(escape(view.text[pos:start])))
        out.append(f'<mark data-entity="{entity_id}">{escape(view.text[start:end])}</mark>')
        pos = end
    out.append(str(escape(view.text[pos:])))
    paragraphs = "".join(out).split("\n")
    return Markup("".join(f'<p dir="auto">{p}</p>' for p in paragraphs if p.strip()))


async def article_page(request: Request) -> HTMLResponse:
    from models import Mention

    article_id = _int(request.path_params["id"])
    with read_session(engine_of(request)) as s:
        views = load_articles(s, [article_id], with_text=True) if article_id else []
        offsets = [
            (start, end, entity_id)
            for entity_id, pairs in s.execute(
                select(Mention.entity_id, Mention.offsets).where(Mention.article_id == article_id)
            )
            for start, end in (pairs or [])
        ]
    if not views:
        return render(request, "missing.html", 404, what=f"article {request.path_params['id']}")
    view = views[0]
    return render(request, "article.html", a=view, body=highlighted(view, offsets))


def overview_page(
    request: Request, overview: Any, template: str, what: str, chart_title: str
) -> HTMLResponse:
    """An entity, outlet or author page: its overview, its timeline chart, its latest rows."""
    if overview is None:
        return render(request, "missing.html", 404, what=what)
    title = chart_title.format(name=overview.name, unit=overview.timeline.unit)
    chart = stacked_bars(overview.timeline, title=title, y_title="articles")
    return render(
        request,
        template,
        page=overview,
        chart=chart,
        rows=[v.contract() for v in overview.latest],
    )


Loader = Callable[[Engine, str], Any]
OVERVIEWS: dict[str, tuple[Loader, str, str]] = {
    # route → (loader, template, chart title)
    "/entities/{id}": (
        lambda engine, key: entity_overview(engine, _int(key)),
        "entity.html",
        "Articles mentioning {name}, per {unit}, by outlet",
    ),
    "/outlets/{slug}": (
        outlet_overview,
        "outlet.html",
        "New articles from {name}, per {unit} (last 60 days)",
    ),
    "/authors/{id}": (
        lambda engine, key: author_overview(engine, _int(key)),
        "author.html",
        "Articles by {name}, per {unit}, by outlet",
    ),
}


def overview_route(path: str) -> Route:
    load, template, chart_title = OVERVIEWS[path]
    param = path.rsplit("{", 1)[1].rstrip("}")

    async def endpoint(request: Request) -> HTMLResponse:
        key = request.path_params[param]
        what = f"{path.split('/')[1].rstrip('s')} {key}"
        return overview_page(request, load(engine_of(request), key), template, what, chart_title)

    return Route(path, endpoint)


async def healthz(request: Request) -> JSONResponse:
    try:
        with engine_of(request).connect() as conn:
            conn.execute(text("SELECT 1"))
        return JSONResponse(
            {"status": "ok", "database": "ok", "time": dt.datetime.now(dt.UTC).isoformat()}
        )
    except Exception as exc:  # the probe reports, it never raises
        return JSONResponse({"status": "error", "database": type(exc).__name__}, 503)


def _int(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        return 0


def create_app(engine: Engine, auth: WebAuth | None = None, *, secret_key: str = "") -> Starlette:
    """The web app on ``engine`` (give it a read-only one: see core.webdb)."""
    auth = auth or WebAuth()
    routes = [
        Route("/", home),
        Route("/search", search_page),
        Route("/search.csv", search_csv),
        Route("/search.json", search_json),
        Route("/articles/{id}", article_page),
        *(overview_route(path) for path in OVERVIEWS),
        Route("/healthz", healthz),
        Route("/login", login, methods=["GET", "POST"]),
        Route("/logout", logout, methods=["POST"]),
    ]
    middleware = [
        Middleware(
            SessionMiddleware,
            secret_key=secret_key or secrets.token_urlsafe(32),
            same_site="strict",
            https_only=False,
        ),
        Middleware(AuthMiddleware, auth=auth),
    ]
    app = Starlette(routes=routes, middleware=middleware)
    app.state.engine = engine
    app.state.auth = auth
    return app
