"""The Rich consoles: one for people (stderr when --json asks stdout for data only)."""

from __future__ import annotations

import argparse
import sys

from rich.console import Console

_stderr = Console(stderr=True, highlight=False)


def console(json_mode: bool = False) -> Console:
    """The console for human output; with --json it writes to stderr so stdout stays pure JSON."""
    return _stderr if json_mode else Console(highlight=False)


def error_line(message: str) -> None:
    """One red line on stderr: what is wrong and what to do."""
    from rich.markup import escape

    # Escaped: a message naming an extra (model-hospital[worker]) is not markup.
    _stderr.print(f"[bold red]error:[/] {escape(message)}", soft_wrap=True)


def print_json(payload: str) -> None:
    sys.stdout.write(payload.rstrip("\n") + "\n")


def positive_int(text: str) -> int:
    """An argparse type: a whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{value} must be at least 1")
    return value
