"""The one progress line of ``pyrodis study run``: trials done, running and failed, and the ETA."""

from __future__ import annotations

import sys
import time

__all__ = ["StudyProgress"]


class StudyProgress:
    """One line: done/running/failed of the total and the ETA from this invocation's trials."""

    def __init__(self, name: str, total: int, done: int, failed: int, show: bool):
        self.name, self.total, self.show = name, total, show
        self.done, self.failed, self.running = done, failed, 0
        self.start, self.finished_here = time.monotonic(), 0
        self._last, self._printed = (-1, -1, -1), 0.0

    def line(self) -> str:
        left = self.total - self.done - self.failed
        eta = "?"
        if self.finished_here and left:
            rate = (time.monotonic() - self.start) / self.finished_here
            eta = time.strftime("%H:%M:%S", time.gmtime(rate * left))
        elif not left:
            eta = "00:00:00"
        return (
            f"study {self.name}: {self.done}/{self.total} done, {self.running} running, "
            f"{self.failed} failed, ETA {eta}"
        )

    def update(self, final: bool = False) -> None:
        """Redraw the line on a terminal; elsewhere print it when a count changes (or each minute)."""
        if not self.show:
            return
        if sys.stderr.isatty():
            print("\r" + self.line(), end="\n" if final else "", file=sys.stderr)
            return
        counts = (self.done, self.failed, self.running)
        if final or counts != self._last or time.monotonic() - self._printed > 60:
            print(self.line(), file=sys.stderr)
            self._last, self._printed = counts, time.monotonic()
