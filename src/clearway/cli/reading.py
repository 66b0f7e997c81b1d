"""Reading files for `clearway file`: a file, or every file in a folder."""

from __future__ import annotations

from pathlib import Path


def files_under(path: Path) -> list[Path]:
    """A file, or every file in a folder (sorted, hidden files skipped)."""
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith("."))
    return [path]
