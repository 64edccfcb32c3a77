"""URL canonicalisation: one spelling per page, whatever variant a feed, a share button or an
AMP link gave us.

Built on w3lib's ``canonicalize_url`` (query sorting, percent-encoding, fragments) and the
standard library's URL parser; on top: the tracking-parameter list below, default ports, host case,
and site conventions for AMP and mobile variants.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from w3lib.url import canonicalize_url

# Parameters that say who shared a link, never which page it is.
TRACKING_PARAMS = frozenset(
    {
        "fbclid",
        "gclid",
        "gclsrc",
        "dclid",
        "yclid",
        "msclkid",
        "twclid",
        "ttclid",
        "igshid",
        "mc_cid",
        "mc_eid",
        "_ga",
        "_gl",
        "_hsenc",
        "_hsmi",
        "mkt_tok",
        "oly_anon_id",
        "oly_enc_id",
        "vero_id",
        "wickedid",
        "ref_src",
        "ref_url",
        "cmpid",
        "ncid",
        "ocid",
        "sr_share",
        "s_cid",
        "at_medium",
        "at_campaign",
        "spm",
        "share",
        "amp",
        "outputtype",
        "ref",
    }
)
TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "hmb_", "__s")
AMP_PATH_RE = re.compile(r"(?:/amp/?$|/amp(?=/)|\.amp(?=$|\.html?$|/))", re.IGNORECASE)
MOBILE_HOST_RE = re.compile(r"^(?:m|mobile|amp)\.", re.IGNORECASE)


def _is_tracking(name: str) -> bool:
    low = name.lower()
    return low in TRACKING_PARAMS or low.startswith(TRACKING_PREFIXES)


def canonicalize(url: str) -> str:
    """The canonical spelling of ``url``: lowercase scheme and host, no default port, no
    fragment, no tracking parameters, sorted query. Paths keep their case and trailing slash."""
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return url
    host = parts.hostname.lower().rstrip(".")
    port = parts.port
    netloc = (
        host if port in (None, 80 if parts.scheme.lower() == "http" else 443) else f"{host}:{port}"
    )
    query = [
        (k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _is_tracking(k)
    ]
    rebuilt = urlunsplit((parts.scheme.lower(), netloc, parts.path or "/", urlencode(query), ""))
    return canonicalize_url(rebuilt, keep_fragments=False)


def strip_amp(url: str) -> str:
    """The non-AMP and non-mobile spelling of ``url`` by common conventions (used when the page
    gives no rel=canonical): ``/amp/`` and ``.amp`` paths, ``?amp=1``, ``amp.`` and ``m.`` hosts."""
    parts = urlsplit(canonicalize(url))
    path = AMP_PATH_RE.sub("", parts.path) or "/"
    if parts.path.endswith("/") and not path.endswith("/"):
        path += "/"
    host = MOBILE_HOST_RE.sub("", parts.netloc)
    return urlunsplit((parts.scheme, host, path, parts.query, ""))


def is_amp(url: str) -> bool:
    parts = urlsplit(url)
    q = dict(parse_qsl(parts.query))
    return (
        bool(AMP_PATH_RE.search(parts.path))
        or parts.netloc.lower().startswith("amp.")
        or q.get("amp") in ("1", "true", "")
    )


def is_mobile(url: str) -> bool:
    return bool(MOBILE_HOST_RE.match(urlsplit(url).netloc))


def site_of(url: str) -> str:
    """Registered-domain-ish host for same-site checks (``www.``/``m.``/``amp.`` dropped)."""
    host = (urlsplit(url).hostname or "").lower()
    return re.sub(r"^(?:www|m|mobile|amp)\.", "", host)


def explicit_port(url: str) -> int | None:
    """The URL's port when it is not the scheme's default (two ports on one host: two sites)."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        return None
    return None if port in (None, 80, 443) else port


def same_site(a: str, b: str) -> bool:
    """One site: the same host (give or take ``www.``/``m.``/``amp.`` and subdomains) and the
    same explicit port."""
    sa, sb = site_of(a), site_of(b)
    return (
        bool(sa)
        and (sa == sb or sa.endswith("." + sb) or sb.endswith("." + sa))
        and explicit_port(a) == explicit_port(b)
    )


def under(url: str, prefix: str) -> bool:
    """``url`` is on ``prefix``'s site and under its path (an outlet's home URL)."""
    if not same_site(url, prefix):
        return False
    base = urlsplit(prefix).path or "/"
    return (urlsplit(url).path or "/").startswith(base if base.endswith("/") else base + "/")


def owning_outlet_url(url: str, outlet_urls: list[str]) -> str | None:
    """Of the outlets' home URLs, the most specific one ``url`` lies under (None: no outlet's)."""
    owners = [u for u in outlet_urls if u and under(url, u)]
    return max(owners, key=lambda u: len(urlsplit(u).path), default=None)


def is_foreign(
    url: str, page_url: str, own_outlet_url: str = "", other_outlet_urls: list[str] | None = None
) -> bool:
    """Does ``url`` (a page's rel=canonical) name another site than the page's own: another host
    or port, or a place under another configured outlet's URL?"""
    if not same_site(url, page_url):
        return True
    others = [u for u in other_outlet_urls or [] if u]
    if not others:
        return False
    owner = owning_outlet_url(url, [own_outlet_url, *others])
    return owner is not None and owner != own_outlet_url and owner in others
