"""The ``mediation`` command line: the terminal edge of the library (reads files, prints)."""

from __future__ import annotations

from .app import add_commands, app, main

__all__ = ["app", "main"]

add_commands(app)
