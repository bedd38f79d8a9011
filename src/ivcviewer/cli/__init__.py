"""The ``ivcviewer`` command line. Each subcommand lives in its own module of this package."""

from __future__ import annotations

from .main import main

__all__ = ["main"]
