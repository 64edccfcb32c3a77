"""Sending mail over SMTP (smtplib): none / STARTTLS / implicit TLS, auth from the environment."""

from __future__ import annotations

import smtplib
import ssl
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr

from alerts.digest import Digest, one_line
from core.config import EMAIL_RE, SmtpConfig


class SendError(Exception):
    """The server could not be reached or refused the message; nothing was delivered."""


def _domain(sender: str) -> str:
    addr = parseaddr(sender)[1]
    return addr.rsplit("@", 1)[-1] if "@" in addr else "mediawatch.invalid"


def build_message(digest: Digest, *, sender: str, to_email: str, to_name: str = "") -> EmailMessage:
    """A multipart/alternative message. Every header value is made one line, so a hostile
    title can never add a header."""
    if not EMAIL_RE.match(to_email):
        raise ValueError(f"invalid recipient address {to_email!r}")
    msg = EmailMessage()
    msg["Subject"] = one_line(digest.subject)[:250]
    msg["From"] = one_line(sender)
    msg["To"] = Address(display_name=one_line(to_name), addr_spec=to_email)
    msg["Date"] = formatdate(localtime=False, usegmt=True)
    msg["Message-ID"] = make_msgid(domain=_domain(sender))
    unsub = parseaddr(sender)[1]
    msg["List-Unsubscribe"] = f"<mailto:{unsub}?subject=unsubscribe>"
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(digest.text)
    msg.add_alternative(digest.html, subtype="html")
    return msg


def send(cfg: SmtpConfig, msg: EmailMessage) -> None:
    """Hand the message to the server; raise :class:`SendError` unless it accepted it."""
    try:
        if cfg.security == "ssl":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                cfg.host,
                cfg.port,
                timeout=cfg.timeout_seconds,
                context=ssl.create_default_context(),
            )
        else:
            smtp = smtplib.SMTP(cfg.host, cfg.port, timeout=cfg.timeout_seconds)
        with smtp:
            smtp.ehlo()
            if cfg.security == "starttls":
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()
            if cfg.username:
                smtp.login(cfg.username, cfg.password)
            refused = smtp.send_message(msg)
            if refused:
                raise SendError(f"recipients refused: {refused}")
    except (smtplib.SMTPException, OSError) as exc:
        raise SendError(f"{cfg.host}:{cfg.port}: {type(exc).__name__}: {exc}") from exc
