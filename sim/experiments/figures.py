"""A run's two figures drawn in a process of their own, forked at the command's start.

Matplotlib takes about half a second to import and the two figures most of a second to draw; a
``python -m sim run`` forks this process before it imports the model, so the figures' imports overlap
the parent's, and their drawing overlaps the writing of the tables. The figures are drawn by the same
code (:mod:`sim.pictures.charts`) with the same inputs, so the files are those drawn in the parent.
Only a single-threaded process forks (a fork of a process with threads may deadlock in the child): where
there is no ``fork`` start method (Windows), the process has threads (a notebook, a test), or the fork
fails, nothing is started and the caller draws the figures itself.

The process ends with the command, however the command ends: it holds only its own end of the pipe (so
the parent's death closes the pipe), the kernel kills it when the parent dies (even by SIGKILL:
:func:`sim.inputs.lifetime.die_with_parent`), and it gives up the command's standard output and
error at once, so a pipeline reading the command (``run ... | cat``) never waits for it.
"""

from __future__ import annotations

import multiprocessing
import traceback
from pathlib import Path
from typing import Any


def single_threaded() -> bool:
    """Whether this process has one thread (read from ``/proc``; False where it cannot be read)."""
    try:
        with open("/proc/self/status") as fh:
            return any(line.split() == ["Threads:", "1"] for line in fh)
    except OSError:
        return False


def _failure(exc: BaseException) -> BaseException:
    """The exception to send to the parent (itself if it pickles), with the child's traceback as a note."""
    import pickle

    exc.add_note("in the figure process:\n" + "".join(traceback.format_exception(exc)))
    try:
        pickle.dumps(exc)
        return exc
    except Exception:  # noqa: BLE001
        return RuntimeError(f"drawing the figures: {type(exc).__name__}: {exc}")


def _serve(conn, parent_end=None) -> None:
    """The child: import the charts, then draw what the parent sends (one job), and answer."""
    from sim.inputs.lifetime import detach_stdio, die_with_parent

    die_with_parent()
    detach_stdio()
    if parent_end is not None:
        parent_end.close()  # the parent's end: only the parent holds it, so its death closes the pipe
    try:
        from sim.model import SERVICES
        from sim.model.rules import MODES
        from sim.pictures import charts

        job = conn.recv()
    except (EOFError, OSError):  # the parent went away or drew the figures itself
        return
    except Exception as exc:  # noqa: BLE001  (an import failure is reported to the parent, which raises)
        conn.send(_failure(exc))
        return
    try:
        national, target, scenario, workforce, modes, parts = job
        charts.save(charts.workforce_figure(national, target, scenario=scenario), workforce)
        charts.save(charts.modes_figure(national, SERVICES, MODES, scenario=scenario), modes)
        if parts is not None:
            from sim.pictures.anatomy import anatomy_figure

            charts.save(anatomy_figure(national, scenario=scenario), parts)
        conn.send(None)
    except Exception as exc:  # noqa: BLE001
        conn.send(_failure(exc))


class FigureProcess:
    """A forked process that imports matplotlib now and draws a run's two figures when asked."""

    def __init__(self) -> None:
        self._conn = self._proc = None
        self._sent = False
        if "fork" not in multiprocessing.get_all_start_methods() or not single_threaded():
            return
        ctx = multiprocessing.get_context("fork")
        try:
            self._conn, child = ctx.Pipe()
            self._proc = ctx.Process(target=_serve, args=(child, self._conn), daemon=True, name="sim-figures")
            self._proc.start()
            child.close()
        except OSError:
            self._conn = self._proc = None

    @property
    def ready(self) -> bool:
        """Whether the process runs (else the caller draws the figures)."""
        return self._proc is not None and self._proc.is_alive()

    def draw(
        self,
        national: Any,
        target: float,
        scenario: str,
        workforce: Path,
        modes: Path,
        anatomy: Path | None = None,
    ) -> None:
        """Send the job: the national table, the ambition, the scenario's name and the figures' paths."""
        self._conn.send((national, target, scenario, workforce, modes, anatomy))
        self._sent = True

    def wait(self) -> None:
        """Wait for the figures.

        Raises:
            Exception: the drawing's own error (with the child's traceback as a note), or RuntimeError if
                the process died.
        """
        try:
            error = self._conn.recv()
        except EOFError:
            error = RuntimeError("drawing the figures: the figure process ended without an answer")
        self.close()
        if error is not None:
            raise error

    def close(self) -> None:
        """End the process: at once if no figures were asked for, else when it has answered."""
        if self._conn is not None:
            self._conn.close()
        if self._proc is not None:
            if not self._sent:
                self._proc.kill()  # still importing, or waiting for a job that will not come
            self._proc.join(timeout=5)
            if self._proc.is_alive():
                self._proc.kill()
                self._proc.join()
        self._conn = self._proc = None
