"""`hospital treat` (not built yet)."""


def register(subparsers) -> None:
    """Adds nothing until the command is built."""
