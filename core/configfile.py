"""Reading mediawatch.toml: the file, the environment, every problem reported at once.

Field problems come from pydantic; keys that must be unique across entries and subscribers'
entities are checked on the raw data, so that a bad cron, a duplicate slug and an unknown entity
are reported together (a model validator would only run once every field is valid). A value that
came from an environment variable is reported as coming from it.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from core.config import Settings
from core.errors import ConfigError
from core.paths import config_path_from


def _loc(loc: tuple[int | str, ...], data: dict[str, Any]) -> str:
    """Render a pydantic error location as a TOML key path, naming outlets by slug."""
    out = ""
    node: Any = data
    for part in loc:
        if isinstance(part, int):
            label = f"[{part}]"
            if isinstance(node, list) and part < len(node) and isinstance(node[part], dict):
                ident = node[part].get("slug") or node[part].get("name") or node[part].get("email")
                if ident:
                    label = f"[{part}] ({ident})"
            out += label
        else:
            out += f".{part}" if out else str(part)
        if isinstance(node, dict):
            node = node.get(part) if isinstance(part, str) else None
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            node = node[part]
        else:
            node = None
    return out or "(top level)"


EntityLookup = Callable[["Settings", set[str]], set[str]]


def duplicate_problems(data: dict[str, Any]) -> list[str]:
    """Keys that must be unique across entries, checked on the raw file so that they are reported
    together with every other problem (a model validator would run only once all fields pass)."""
    problems = []
    for section, key, norm in (
        ("outlets", "slug", str),
        ("watch", "name", str.casefold),
        ("subscribers", "email", str.lower),
    ):
        seen: dict[str, int] = {}
        entries = data.get(section)
        for i, entry in enumerate(entries if isinstance(entries, list) else []):
            value = entry.get(key) if isinstance(entry, dict) else None
            if not isinstance(value, str) or not value.strip():
                continue
            folded = norm(value.strip())
            if folded in seen:
                problems.append(
                    f"{section}[{i}] ({value}).{key}: duplicate {key} {value!r} "
                    f"(also {section}[{seen[folded]}])"
                )
            else:
                seen[folded] = i
    return problems


def unknown_entity_problems(
    data: dict[str, Any], db_settings: Settings | None, known: EntityLookup | None = None
) -> list[str]:
    """Subscribers' ``entities`` (raw file data, so that this runs even when other keys are
    wrong) that are neither in [[watch]] nor, through ``known`` on ``db_settings``' database,
    in the database's watchlist (added with `watch add` or a CSV import)."""
    from pipeline.textnorm import lookup_key

    def entries(section: str) -> list[dict[str, Any]]:
        value = data.get(section)
        return [e for e in value if isinstance(e, dict)] if isinstance(value, list) else []

    in_config = {lookup_key(w["name"]) for w in entries("watch") if isinstance(w.get("name"), str)}
    subs = [
        (i, s.get("email", "?"), [e for e in s.get("entities") or [] if isinstance(e, str)])
        for i, s in enumerate(entries("subscribers"))
    ]
    wanted = {lookup_key(e) for _, _, names in subs for e in names} - in_config
    found = known(db_settings, wanted) if (known and db_settings and wanted) else set()
    return [
        f"subscribers[{i}] ({email}).entities: {name!r} is not in [[watch]] "
        "nor in the database's watchlist (`mediawatch watch add`)"
        for i, email, names in subs
        for name in names
        if lookup_key(name) not in in_config and lookup_key(name) not in found
    ]


def read_toml(path: Path) -> dict[str, Any]:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(path, ["file not found (run `mediawatch init` to create one)"]) from None
    except OSError as exc:
        raise ConfigError(path, [f"cannot read: {exc.strerror}"]) from None
    try:
        # utf-8-sig: a byte-order mark (Windows editors write one) is not a syntax error.
        return tomllib.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise ConfigError(path, [f"not UTF-8 text (byte {exc.start})"]) from None
    except tomllib.TOMLDecodeError as exc:
        # The message already carries "(at line L, column C)".
        raise ConfigError(path, [f"TOML syntax error: {exc}"]) from None


def load_settings(
    path: str | Path | None = None,
    *,
    missing_ok: bool = False,
    known_entities: EntityLookup | None = None,
) -> Settings:
    """Read and validate the configuration file; raise :class:`ConfigError` listing every
    problem at once. ``known_entities`` looks up watchlist names the file does not define."""
    cfg_path = config_path_from(path)
    data: dict[str, Any] = {}
    if cfg_path.exists() or not missing_ok:
        data = read_toml(cfg_path)
    problems = duplicate_problems(data)
    settings = None
    try:
        settings = Settings(**data, config_path=cfg_path)
    except ValidationError as exc:
        for err in exc.errors():
            msg = str(err["msg"]).removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                msg = "unknown key"
            loc = tuple(err["loc"])
            problems.append(f"{_loc(loc, data)}{_env_source(loc)}: {msg}")
    db_settings = settings
    if db_settings is None and known_entities is not None:
        # Only the database section, to look the watchlist up while other keys are wrong.
        try:
            db_settings = Settings(database=data.get("database") or {}, config_path=cfg_path)
        except ValidationError:
            db_settings = None
    problems += unknown_entity_problems(data, db_settings, known_entities)
    if problems:
        raise ConfigError(cfg_path, problems)
    assert settings is not None
    return settings


def _env_source(loc: tuple[int | str, ...]) -> str:
    """' (from $MEDIAWATCH_X__Y)' when that environment variable set the value."""
    names = [str(p) for p in loc if isinstance(p, str)]
    for n in range(len(names), 0, -1):
        var = "MEDIAWATCH_" + "__".join(names[:n]).upper()
        if any(k.upper() == var for k in os.environ):
            return f" (from ${var})"
    return ""
