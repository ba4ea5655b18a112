"""Progress of long work through tqdm: a bar on a terminal, a widget or plain lines in a notebook.

tqdm comes with Mesa. Where the output is not a terminal (a log file, CI, a notebook without ipywidgets),
a bar redrawn with carriage returns would be noise, so a plain line is printed about every 10% of the
work instead. ``tqdm.auto`` is not used: without ipywidgets it warns
"IProgress not found" in every notebook.
"""

from __future__ import annotations

import importlib.util
import sys
import time
from typing import Any, TextIO


def _in_notebook() -> bool:
    shell = getattr(sys.modules.get("IPython"), "get_ipython", lambda: None)()
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


class Progress:
    """Counts units of work done and shows ``label: done/total (failed) rate, time left``.

    Args:
        total: units of work in all.
        label: what is being counted (``runs``, ``replications``, ``trials``).
        stream: where to write (standard error by default).
        done: units already complete (a resumed sweep).
    """

    def __init__(self, total: int, label: str = "runs", stream: TextIO | None = None, done: int = 0):
        self.total, self.label = total, label
        self.stream = stream or sys.stderr
        self.done, self.failed, self._start_done = done, 0, done
        self._t0 = time.perf_counter()
        self._next_print = (int(100 * done / max(total, 1)) // 10 + 1) * 10
        self.bar: Any = None
        tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        if tty or (_in_notebook() and importlib.util.find_spec("ipywidgets") is not None):
            if tty:
                from tqdm.std import tqdm
            else:
                from tqdm.notebook import tqdm
            self.bar = tqdm(
                total=total,
                initial=done,
                desc=label,
                unit=label.rstrip("s") or "unit",
                file=self.stream,
                dynamic_ncols=True,
                smoothing=0.1,
                bar_format="{l_bar}{bar}| {n:.0f}/{total_fmt} [{elapsed}<{remaining}, {rate_fmt}{postfix}]",
            )

    def update(self, n: float = 1, failed: int = 0) -> None:
        """Count ``n`` more units done, ``failed`` of them failed."""
        self.done += n
        self.failed += failed
        if self.bar is not None:
            if failed:
                self.bar.set_postfix_str(f"{self.failed} failed", refresh=False)
            self.bar.update(n)
            return
        pct = 100 * self.done / max(self.total, 1)
        if pct >= self._next_print or self.done >= self.total:
            self._next_print = (int(pct) // 10 + 1) * 10
            print(self.line(), file=self.stream, flush=True)

    def line(self) -> str:
        """The progress as one plain line."""
        elapsed = time.perf_counter() - self._t0
        fresh = self.done - self._start_done
        rate = fresh / elapsed if elapsed > 0 else 0.0
        left = (self.total - self.done) / rate if rate > 0 else float("nan")
        failed = f", {self.failed} failed" if self.failed else ""
        return (
            f"{self.label}: {self.done:,.0f}/{self.total:,}{failed}, {rate:,.1f}/s, "
            f"elapsed {elapsed:,.1f}s, left {left:,.1f}s"
        )

    def close(self) -> None:
        """End the bar (a terminal keeps its final line)."""
        if self.bar is not None:
            self.bar.close()

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
