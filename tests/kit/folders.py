"""What a user's folder looks like on disk, to check that pyrodis never writes to it."""

from pathlib import Path


def snapshot(folder: Path) -> list[tuple[str, int, int]]:
    """Every path under ``folder`` with its size and mtime (ns), sorted."""
    return sorted(
        (str(p.relative_to(folder)), p.stat().st_size, p.stat().st_mtime_ns)
        for p in folder.rglob("*")
    )
