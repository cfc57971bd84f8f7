"""Data models shared by the CLI, the stages and the operator (no ML imports here)."""
