"""Where the configuration file is: ``--config``, else ``$MEDIAWATCH_CONFIG``, else ./mediawatch.toml."""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_CONFIG_NAME = "mediawatch.toml"


def config_path_from(explicit: str | Path | None) -> Path:
    if explicit:
        return Path(explicit)
    env = os.environ.get("MEDIAWATCH_CONFIG")
    return Path(env) if env else Path(DEFAULT_CONFIG_NAME)
