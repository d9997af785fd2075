"""The one error a wrong config file raises (its own module, so every part of the config's parsing can raise it)."""

from __future__ import annotations


class ConfigError(Exception):
    """The config file is missing or wrong; the message says where and how to fix it."""
