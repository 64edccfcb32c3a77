"""A small HTTP server for fixture and demo sites (tests and `make demo`; loopback only).

Serves ``ROOT/<site>/...`` with ``{{BASE}}`` in text files replaced by the server's own base URL
(and any other ``{{NAME}}`` given in ``substitutions``, e.g. another server's base),
answers conditional GETs (ETag / Last-Modified → 304), counts requests per path, and has fault
routes under ``/faults/``: ``500``, ``slow``, ``loop-a``/``loop-b`` (a redirect loop), ``big``
(oversize), ``gone`` (410). ``?p=N`` on a directory serves ``p/N.html`` (WordPress permalinks).
Per-file overrides live in ``ROOT/_headers.json``: ``{"/path": {"content_type": ..., "status": ...}}``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import mimetypes
import sys
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

LAST_MODIFIED = "Tue, 05 Mar 2024 08:00:00 GMT"
CHALLENGE = (
    b"<!DOCTYPE html><html><head><title>Just a moment...</title></head><body>"
    b"<h1>Checking your browser before accessing the site.</h1>"
    b'<form id="challenge-form" action="/cdn-cgi/challenge-platform/h/b/orchestrate/jsch/v1">'
    b"</form></body></html>"
)
TEXT_TYPES = (".html", ".xml", ".txt", ".json", ".rss", ".atom", "")


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A crawler that gives up on a slow page, or closes a kept-alive connection, is not an
        # error of the server: no traceback for it.
        exc = sys.exc_info()[1]
        if isinstance(exc, ConnectionError | TimeoutError):
            return
        super().handle_error(request, client_address)


class SiteServer:
    def __init__(
        self, root: Path, host: str = "127.0.0.1", port: int = 0, slow_seconds: float = 5.0
    ) -> None:
        self.root = Path(root)
        self.slow_seconds = slow_seconds
        # Every answer waits this long (a long-running crawl for the cluster's kill tests).
        self.page_delay_seconds = 0.0
        # When set, every page but robots.txt is a bot-wall challenge with this status (a site
        # that put an anti-bot service in front of itself, for the outlet-health tests).
        self.bot_wall: int | None = None
        self.substitutions: dict[str, str] = {}
        self.counts: Counter[str] = Counter()
        self.not_modified: Counter[str] = Counter()
        self.lock = threading.Lock()
        overrides = self.root / "_headers.json"
        self.overrides: dict[str, dict[str, Any]] = (
            json.loads(overrides.read_text()) if overrides.exists() else {}
        )
        self.httpd = _QuietServer((host, port), self._handler())
        self.thread: threading.Thread | None = None

    @property
    def base(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> SiteServer:
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> SiteServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def hits(self, prefix: str = "") -> int:
        with self.lock:
            return sum(v for k, v in self.counts.items() if k.startswith(prefix))

    def reset(self) -> None:
        with self.lock:
            self.counts.clear()
            self.not_modified.clear()

    def _resolve(self, path: str, query: str) -> Path | None:
        rel = path.lstrip("/")
        target = (self.root / rel).resolve()
        if not str(target).startswith(str(self.root.resolve())):
            return None
        p = parse_qs(query).get("p")
        if p and target.is_dir():
            target = target / "p" / f"{p[0]}.html"
        elif target.is_dir():
            target = target / "index.html"
        return target if target.is_file() else None

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _send(
                self, status: int, body: bytes = b"", headers: dict[str, str] | None = None
            ) -> None:
                self.send_response(status)
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                        self.wfile.write(body)

            def do_HEAD(self) -> None:
                self.do_GET()

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                key = parts.path + (f"?{parts.query}" if parts.query else "")
                with server.lock:
                    server.counts[key] += 1
                if parts.path.startswith("/faults/"):
                    return self._fault(parts.path.removeprefix("/faults/"))
                if server.page_delay_seconds:
                    time.sleep(server.page_delay_seconds)
                if server.bot_wall is not None and parts.path != "/robots.txt":
                    return self._send(server.bot_wall, CHALLENGE, {"Content-Type": "text/html"})
                target = server._resolve(parts.path, parts.query)
                if target is None:
                    return self._send(
                        404,
                        b"<html><head><title>404 Not Found</title></head><body>Not found</body></html>",
                        {"Content-Type": "text/html"},
                    )
                body = target.read_bytes()
                if target.suffix in TEXT_TYPES:
                    body = body.replace(b"{{BASE}}", server.base.encode())
                    for name, value in server.substitutions.items():
                        body = body.replace(b"{{" + name.encode() + b"}}", value.encode())
                over = server.overrides.get(parts.path, {})
                ctype = over.get("content_type") or self._ctype(target)
                etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
                if self.headers.get("If-None-Match") == etag or (
                    not self.headers.get("If-None-Match")
                    and self.headers.get("If-Modified-Since") == LAST_MODIFIED
                ):
                    with server.lock:
                        server.not_modified[key] += 1
                    return self._send(304, b"", {"ETag": etag})
                headers = {"Content-Type": ctype, "ETag": etag, "Last-Modified": LAST_MODIFIED}
                self._send(int(over.get("status", 200)), body, headers)

            def _ctype(self, target: Path) -> str:
                if target.suffix == ".gz":
                    return "application/x-gzip"
                if target.suffix == ".xml":
                    return "application/xml"
                guessed = mimetypes.guess_type(target.name)[0] or "text/html"
                return guessed + ("; charset=utf-8" if guessed == "text/html" else "")

            def _fault(self, name: str) -> None:
                if name == "500":
                    return self._send(
                        500, b"<h1>Internal error</h1>", {"Content-Type": "text/html"}
                    )
                if name == "gone":
                    return self._send(410, b"gone", {"Content-Type": "text/html"})
                if name == "slow":
                    time.sleep(server.slow_seconds)
                    return self._send(
                        200, b"<html><body>late</body></html>", {"Content-Type": "text/html"}
                    )
                if name in ("loop-a", "loop-b"):
                    other = "loop-b" if name == "loop-a" else "loop-a"
                    return self._send(302, b"", {"Location": f"{server.base}/faults/{other}"})
                if name == "big":
                    return self._send(
                        200,
                        b"<html><body>" + b"x" * (12 * 1024 * 1024) + b"</body></html>",
                        {"Content-Type": "text/html"},
                    )
                return self._send(404, b"", {"Content-Type": "text/html"})

        return Handler


def main() -> None:  # pragma: no cover - manual use: python -m mediawatch.siteserver DIR [PORT]
    srv = SiteServer(Path(sys.argv[1]), port=int(sys.argv[2]) if len(sys.argv) > 2 else 8800)
    print(f"serving {srv.root} at {srv.base}")
    srv.httpd.serve_forever()


if __name__ == "__main__":
    main()
