"""One writer per output: a lock beside each output path, held from a command's start to its end.

A command that writes a folder or a file (``run --out``, ``compare``, ``backtest``, ``calibrate --out``,
``map --out``, ...) holds an exclusive ``flock`` on a hidden file beside it, ``.<name>.mutuals-sim-lock``,
holding its process id, from before its first check of the path until its output is in place. A second
command given the same path finds the lock taken and stops with a message naming the path and the other
process (:class:`LockedError`). The kernel releases a lock when its process dies, however it dies, so a
killed command never leaves a path locked; the file it leaves is removed by the next command there.

The same lock tells the debris of dead commands from the work of live ones: a staging folder or file
(``.<name>.partial-*``, ``.<name>.old-*``) whose name's lock can be taken belongs to no live command and is
removed (:func:`sweep_stale`), by any command that writes in that folder.

Locks are re-entrant within a process (a command holding a path's lock may call code that takes it
again). Where there is no ``fcntl`` (Windows) nothing is locked.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

SUFFIX = ".mutuals-sim-lock"
_HELD: dict[str, list] = {}  # lock file path -> [open file, depth]
_STALE = re.compile(
    r"^\.(?P<name>.+?)\.(?:partial-[A-Za-z0-9_]{8}|partial-\d+-[0-9a-f]{8}(?:\.[^.]*)?|old-\d+-[0-9a-f]{8})$"
)


class LockedError(Exception):
    """Another command holds the output path; the message names the path and the other process."""


def lock_path(out: Path) -> Path:
    """The lock file of output ``out``: a hidden file beside it."""
    out = Path(out).absolute()
    return out.with_name(f".{out.name}{SUFFIX}")


def holder(path: Path) -> str:
    """Who holds a lock file: ``pid N`` as it records, or "another process"."""
    try:
        pid = path.read_text().strip()
    except OSError:
        pid = ""
    return f"pid {pid}" if pid.isdigit() else "another process"


def try_lock(path: Path, wait: float = 0.0):
    """The open lock file, locked, or None if another process holds it (not locked where no ``fcntl``).

    Args:
        path: the lock file (made if missing).
        wait: seconds to keep trying (a command sweeping up debris holds a lock for milliseconds).
    """
    try:
        import fcntl
    except ImportError:  # not POSIX
        return open(path, "a+")  # noqa: SIM115

    import time

    deadline = time.monotonic() + wait
    for _ in range(1000):
        fh = open(path, "a+")  # noqa: SIM115  (kept open while the lock is held)
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            fh.close()
            if time.monotonic() >= deadline:
                return None
            time.sleep(0.05)
            continue
        try:
            same = os.stat(path).st_ino == os.fstat(fh.fileno()).st_ino
        except FileNotFoundError:
            same = False
        if same:
            return fh
        fh.close()  # the holder removed the file as we opened it: take the new one
    return None


def mark(fh) -> None:
    """Record this process's id in a lock file it holds."""
    fh.seek(0)
    fh.truncate()
    fh.write(f"{os.getpid()}\n")
    fh.flush()


@contextlib.contextmanager
def out_lock(out: Path, what: str = "output") -> Iterator[None]:
    """Hold the lock of output path ``out`` (made parent folders are removed again if left empty).

    Raises:
        LockedError: another command holds it (the message names ``out`` and the other process).
    """
    try:
        import fcntl  # noqa: F401
    except ImportError:  # not POSIX: no lock
        yield
        return
    path = lock_path(out)
    key = str(path)
    if key in _HELD:
        _HELD[key][1] += 1
        try:
            yield
        finally:
            _HELD[key][1] -= 1
        return
    made: list[Path] = []
    parent = path.parent
    while not parent.exists():
        made.append(parent)
        parent = parent.parent
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fh = try_lock(path, wait=0.5)
        if fh is None:
            raise LockedError(
                f"{out}: another command ({holder(path)}) is writing this {what}; wait for it to end, "
                "or give another --out"
            )
        mark(fh)
        _HELD[key] = [fh, 1]
        try:
            sweep_stale(path.parent, only=Path(out).name)  # a killed command's, for this path
            sweep_stale(path.parent)  # and for any other path here that no live command holds
            yield
        finally:
            del _HELD[key]
            with contextlib.suppress(OSError):
                path.unlink()  # still holding the lock: nobody else has it
            fh.close()
    finally:
        for folder in made:  # innermost first; only those still empty
            with contextlib.suppress(OSError):
                folder.rmdir()


def sweep_stale(folder: Path, only: str | None = None) -> list[Path]:
    """Remove staging folders and files, and lock files, that no live command holds, in ``folder``.

    Args:
        folder: where to look.
        only: only the debris of this output name (whose lock the caller holds).

    Returns:
        What was removed.
    """
    removed: list[Path] = []
    try:
        entries = list(Path(folder).iterdir())
    except OSError:
        return removed
    for entry in entries:
        if entry.name.endswith(SUFFIX):
            name = entry.name[1 : -len(SUFFIX)]
        else:
            match = _STALE.match(entry.name)
            if match is None:
                continue
            name = match["name"]
        if only is not None and name != only:
            continue
        if entry.name.endswith(SUFFIX) and only is not None:
            continue  # the caller's own lock
        held = only is not None
        fh = None
        if not held:
            if str(lock_path(Path(folder) / name)) in _HELD:
                continue  # this process is writing it
            fh = try_lock(lock_path(Path(folder) / name))
            if fh is None:
                continue  # a live command is writing it
        try:
            if entry.name.endswith(SUFFIX):
                removed.append(entry)  # its lock taken just now: nobody holds it; removed below
            elif entry.name.startswith(f".{name}.old-") and not (Path(folder) / name).exists():
                entry.rename(Path(folder) / name)  # killed while replacing: the earlier results go back
            elif entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
                removed.append(entry)
            else:
                entry.unlink(missing_ok=True)
                removed.append(entry)
        finally:
            if fh is not None:
                with contextlib.suppress(OSError):
                    lock_path(Path(folder) / name).unlink()
                fh.close()
    return removed
