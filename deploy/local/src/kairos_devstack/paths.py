"""Where the local stack finds the repository and keeps its cache and state."""

from __future__ import annotations

import os
from pathlib import Path


def repository_root() -> Path:
    """The checkout this package runs from (installed editable by the workspace)."""
    configured = os.environ.get("KAIROS_HOME")
    if configured:
        return Path(configured).resolve()
    return Path(__file__).resolve().parents[4]


def cache_dir() -> Path:
    """Downloaded artefacts (Kafka jars): kept between runs, ignored by git."""
    configured = os.environ.get("KAIROS_CACHE_DIR")
    return Path(configured).resolve() if configured else repository_root() / ".cache"


def state_dir() -> Path:
    """Data and logs of ``make run``: kept between runs so a restart finds its data."""
    configured = os.environ.get("KAIROS_STATE_DIR")
    return Path(configured).resolve() if configured else repository_root() / ".local" / "run"
