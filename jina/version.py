"""The SDK's version, in a module of its own: reading it does not import the SDK (Flow, Client...)."""

from __future__ import annotations

__version__ = "0.1.0"
