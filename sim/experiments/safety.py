"""File safety: the program deletes or replaces only what it made itself.

Every folder the program writes (a run's results, a sweep, a comparison) carries a marker file naming its
kind (:data:`MARKER`). An output folder may be new, empty, or (when replacing is asked for) one the program
made for the same kind of output; never a file, the working folder or a parent of it, the home folder, or a
folder without the marker. Paths are checked before any work starts (:func:`check_out_dir`,
:func:`check_out_file`), and written through a staging folder or file that replaces the destination only
when complete (:func:`staged_dir`, :func:`staged_file`), so a failure leaves nothing behind: no partial
folder, no half-written file, no parent folders made for nothing. A command holds the path's lock
(:mod:`sim.experiments.locks`) from its first check to its last write (:func:`claim_out_dir`,
:func:`claim_out_file`), so two commands never write one path. Names from input files are made safe
before they become part of a path (:func:`safe_name`).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from sim.experiments.locks import LockedError, out_lock

__all__ = ["LockedError"]
MARKER = ".mutuals-sim"
"""A file in every folder the program writes (run results, sweeps, comparisons); it names the kind.

The program replaces or deletes only folders that carry it, so it never removes a user's own files."""


class OutputError(Exception):
    """An output path the program must not write to; the message names the path and why."""


def safe_name(name: str) -> str:
    """``name`` made safe as one folder name: no separators, no ``..``, no leading dot, no control codes."""
    text = "".join(c if c.isalnum() or c in "-_." else "-" for c in str(name))
    text = "-".join(part for part in text.split("-") if part)  # runs of "-" collapsed
    text = text.replace("..", "-").lstrip(".-")
    return text[:80] or "scenario"


def marker_kind(folder: Path) -> str | None:
    """The kind of output a folder holds if the program made it (its marker file), else None."""
    try:
        return json.loads((Path(folder) / MARKER).read_text()).get("kind")
    except (OSError, ValueError, AttributeError):
        return None


def write_marker(folder: Path, kind: str) -> None:
    """Mark ``folder`` as made by the program, holding output of ``kind``."""
    (Path(folder) / MARKER).write_text(json.dumps({"kind": kind, "program": "mutuals-sim"}) + "\n")


def protected_reason(out: Path) -> str | None:
    """Why ``out`` may never be replaced (the working folder or one holding it, home, a root), or None."""
    resolved = out.resolve()
    cwd = Path.cwd().resolve()
    if resolved == cwd or resolved in cwd.parents:
        return "is the working folder or one of its parents"
    if resolved == Path.home().resolve():
        return "is the home folder"
    if resolved.parent == resolved:
        return "is the root of a file system"
    return None


def _nearest_existing(path: Path) -> Path:
    path = path.absolute()
    while not path.exists() and path.parent != path:
        path = path.parent
    return path


def check_out_dir(out: Path, force: bool, kind: str = "run") -> str | None:
    """A message if the program may not write its ``kind`` of results folder at ``out``, else None.

    Writing is allowed to a new folder, an empty folder, or (with ``force``) a folder the program made
    for the same kind of output (it carries :data:`MARKER`). Never to a file, the working folder or a
    parent of it, the home folder, or a folder without the marker. The nearest existing parent must be
    a folder in which a folder can be made (tried, and removed at once), so a bad path fails before any
    simulation.
    """
    out = Path(out)
    why = protected_reason(out)
    if why:
        return f"{out}: {why}; give a new folder for the results, e.g. --out results/my-run"
    if out.exists() or out.is_symlink():
        if out.is_symlink() or not out.is_dir():
            return f"{out}: exists and is not a folder; give a new folder for the results"
        if any(out.iterdir()):
            made = marker_kind(out)
            if made is None:
                return (
                    f"{out}: folder exists, is not empty and was not made by this program "
                    f"(no {MARKER} marker); it is never replaced: give a new folder"
                )
            if made != kind:
                return f"{out}: holds {made} results, not {kind} results; give another folder"
            if not force:
                return f"{out}: output folder exists and is not empty (use --force to replace it)"
    return _unwritable(out)


def _unwritable(out: Path) -> str | None:
    """A message if nothing can be made at ``out`` (its nearest existing parent is no writable folder)."""
    parent = _nearest_existing(out.parent)
    if not parent.is_dir():
        return f"{out}: {parent} is not a folder"
    try:
        Path(tempfile.mkdtemp(prefix=".mutuals-sim-check-", dir=parent)).rmdir()
    except OSError as exc:
        return f"{out}: cannot write in {parent}: {exc.strerror or exc}"
    return None


def user_folder_mode() -> int:
    """The mode a folder made with ``mkdir`` gets under the process's umask (0755 under the usual 022)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o777 & ~mask


@contextlib.contextmanager
def staged_dir(out: Path, kind: str = "run") -> Iterator[Path]:
    """Yield a staging folder; on success it replaces ``out``; on any error nothing is left behind.

    ``out`` is replaced only if it is empty or carries this program's marker for the same ``kind``
    (:func:`check_out_dir`, checked again here); the staging folder gets the marker. Parent folders
    made for ``out`` are removed again if writing fails.

    Raises:
        OutputError: ``out`` may not be written (see :func:`check_out_dir`).
    """
    out = Path(out)
    with out_lock(out, "folder"):
        yield from _staged_dir(out, kind)


def _staged_dir(out: Path, kind: str) -> Iterator[Path]:
    problem = check_out_dir(out, force=True, kind=kind)
    if problem:
        raise OutputError(problem)
    made: list[Path] = []
    parent = out.parent.absolute()
    while not parent.exists():
        made.append(parent)
        parent = parent.parent
    out.parent.mkdir(parents=True, exist_ok=True)
    stage = old = None
    try:
        stage = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent))
        os.chmod(stage, user_folder_mode())  # mkdtemp makes it private (0700); a results folder is not
        yield stage
        write_marker(stage, kind)
        if out.exists():
            old = out.with_name(f".{out.name}.old-{os.getpid()}-{os.urandom(4).hex()}")
            out.rename(old)
            if marker_kind(old) != kind and any(old.iterdir()):  # filled by someone since the check
                raise OutputError(f"{out}: files appeared in the folder while writing; it is left as it was")
        stage.rename(out)
        stage = None
    except BaseException:
        if stage is not None:
            shutil.rmtree(stage, ignore_errors=True)
        if old is not None and not out.exists():
            old.rename(out)
            old = None
        for folder in made:  # innermost first; only those still empty
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise
    finally:
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def check_out_file(
    out: Path, force: bool, signature: bytes = PNG_SIGNATURE, what: str = "a PNG picture"
) -> str | None:
    """A message if the program may not write the file ``out`` (a picture), else None.

    A new file may be written; an existing one only with ``force`` and only if it is a regular file
    starting with ``signature`` (a PNG: one this or another program drew, never a user's document).
    """
    out = Path(out)
    if out.is_dir():
        return f"{out}: is a folder; give a file name, e.g. {out / 'map.png'}"
    if out.exists() or out.is_symlink():
        if out.is_symlink() or not out.is_file():
            return f"{out}: exists and is not a regular file; give a new file name"
        if not force:
            return f"{out}: file exists (use --force to replace it)"
        with open(out, "rb") as fh:
            if fh.read(len(signature)) != signature:
                return f"{out}: exists and is not {what}; it is never replaced: give a new file name"
    return _unwritable(out)


@contextlib.contextmanager
def staged_file(out: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``out``; on success it replaces ``out``, on error it is removed.

    Parent folders made for ``out`` are removed again if writing fails.
    """
    out = Path(out)
    with out_lock(out, "file"):
        yield from _staged_file(out)


def _staged_file(out: Path) -> Iterator[Path]:
    made: list[Path] = []
    parent = out.parent.absolute()
    while not parent.exists():
        made.append(parent)
        parent = parent.parent
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.partial-{os.getpid()}-{os.urandom(4).hex()}{out.suffix}")
    try:
        yield tmp
        os.replace(tmp, out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        for folder in made:
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise


@contextlib.contextmanager
def claim_out_dir(out: Path, force: bool, kind: str = "run") -> Iterator[None]:
    """Hold ``out``'s lock while a command works towards it, checked (:func:`check_out_dir`) under the lock.

    Raises:
        LockedError: another command holds ``out``.
        OutputError: ``out`` may not be written.
    """
    problem = check_out_dir(out, force, kind)  # first without the lock: nothing is made for a path refused
    if problem:
        raise OutputError(problem)
    with out_lock(Path(out), "folder"):
        problem = check_out_dir(out, force, kind)  # again: another command may have written it meanwhile
        if problem:
            raise OutputError(problem)
        yield


@contextlib.contextmanager
def claim_out_file(
    out: Path, force: bool, signature: bytes = PNG_SIGNATURE, what: str = "a PNG picture", prefix: str = ""
) -> Iterator[None]:
    """As :func:`claim_out_dir`, for a file (:func:`check_out_file`); ``prefix`` starts the message."""
    problem = check_out_file(out, force, signature, what)  # first without the lock: nothing made
    if problem:
        raise OutputError(prefix + problem)
    with out_lock(Path(out), "file"):
        problem = check_out_file(out, force, signature, what)  # again: another may have written it
        if problem:
            raise OutputError(prefix + problem)
        yield
