"""Logging set-up for the service processes and the SDK (stderr, one line per record)."""

from __future__ import annotations

import logging
import os
import sys

_FORMAT = "%(levelname)-7s %(name)s: %(message)s"


def level_from_env(default: str = "INFO") -> str:
    return os.environ.get("JINA_LOG_LEVEL", default).upper()


def configure(name: str, level: str | None = None) -> logging.Logger:
    """Send records of the `jina` logger tree to stderr at `level` (default: JINA_LOG_LEVEL or INFO)."""
    root = logging.getLogger("jina")
    if not root.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter(_FORMAT))
        root.addHandler(handler)
        root.propagate = False
    root.setLevel(level or level_from_env())
    return logging.getLogger(f"jina.{name}")
