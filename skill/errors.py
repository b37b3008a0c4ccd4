"""The few exceptions that cross layers, in one place."""

from __future__ import annotations


class ConfigError(Exception):
    """The service cannot start safely with this configuration (e.g. no skill id)."""
