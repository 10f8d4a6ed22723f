"""Command-line interface (typer)."""

from __future__ import annotations

from udemy360.cli.main import app, main

__all__ = ["app", "main"]
