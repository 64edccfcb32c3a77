"""Who may read the web view.

On 127.0.0.1 with no ``[web]`` users, nobody needs to log in. Bound to any other address,
`mediawatch web` refuses to start unless ``[[web.users]]`` (argon2 password hashes) or
``[web] proxy_auth_header`` (a reverse proxy that authenticates and names the user) is set; once
either is set it is enforced on every address. Sessions are signed cookies (SameSite=strict);
the login form carries a CSRF token. Nothing else accepts POST: the view is read-only.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass, field
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from markupsafe import escape
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

OPEN_PATHS = ("/login", "/healthz")
HASHER = PasswordHasher()


def hash_password(password: str) -> str:
    return HASHER.hash(password)


@dataclass(frozen=True)
class WebAuth:
    users: dict[str, str] = field(default_factory=dict)  # name → argon2 hash
    proxy_header: str = ""  # e.g. X-Remote-User, set by an authenticating reverse proxy

    @property
    def required(self) -> bool:
        return bool(self.users or self.proxy_header)

    def check(self, name: str, password: str) -> bool:
        stored = self.users.get(name)
        if stored is None:
            HASHER.hash(password)  # same cost whether the name exists or not
            return False
        try:
            return HASHER.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return False


class AuthMiddleware:
    def __init__(self, app: ASGIApp, auth: WebAuth) -> None:
        self.app = app
        self.auth = auth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.auth.required:
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        if request.url.path in OPEN_PATHS:
            await self.app(scope, receive, send)
            return
        user = None
        if self.auth.proxy_header:
            user = request.headers.get(self.auth.proxy_header) or None
        if user is None and self.auth.users:
            user = request.session.get("user")
        if user is None:
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            response: Response = RedirectResponse(f"/login?next={_safe_next(target)}", 303)
            await response(scope, receive, send)
            return
        scope.setdefault("state", {})["user"] = user
        await self.app(scope, receive, send)


def _safe_next(target: str) -> str:
    """Only a path on this site (never //host or a scheme): no open redirect."""
    from urllib.parse import quote

    if not target.startswith("/") or target.startswith("//"):
        target = "/"
    return quote(target, safe="/?=&")


def _form(request: Request, message: str = "", next_url: str = "/") -> HTMLResponse:
    token = request.session.get("csrf") or secrets.token_urlsafe(24)
    request.session["csrf"] = token
    body = f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Log in · mediawatch</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="font-family:system-ui,sans-serif;max-width:24rem;margin:4rem auto">
<h1>mediawatch</h1>{f'<p role="alert" style="color:#a00">{escape(message)}</p>' if message else ""}
<form method="post" action="/login">
<input type="hidden" name="csrf" value="{escape(token)}"><input type="hidden" name="next" value="{escape(next_url)}">
<p><label>User<br><input name="user" autocomplete="username" required></label></p>
<p><label>Password<br><input name="password" type="password" autocomplete="current-password" required></label></p>
<p><button type="submit">Log in</button></p></form></body></html>"""
    return HTMLResponse(body, 401 if message else 200)


async def login(request: Request) -> Response:
    auth: WebAuth = request.app.state.auth
    if request.method == "GET":
        return _form(request, next_url=request.query_params.get("next", "/"))
    form: Any = await request.form()
    next_url = str(form.get("next") or "/")
    sent, expected = str(form.get("csrf") or ""), str(request.session.get("csrf") or "")
    if not expected or not hmac.compare_digest(sent, expected):
        return _form(request, "The form expired; try again.", next_url)
    name, password = str(form.get("user") or ""), str(form.get("password") or "")
    if not auth.check(name, password):
        return _form(request, "Wrong user or password.", next_url)
    request.session.clear()
    request.session["user"] = name
    return RedirectResponse(_safe_next(next_url), 303)


async def logout(request: Request) -> Response:
    request.session.clear()
    return RedirectResponse("/login", 303)
