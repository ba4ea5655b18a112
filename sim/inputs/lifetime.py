"""Helper processes that end with the command that started them, however it ends.

A command's helpers (the figure process, the server of ``explore``) are asked by the kernel to end when
their parent does (Linux's ``PR_SET_PDEATHSIG``, set through ``prctl`` with ctypes: it fires even when the
parent is killed with SIGKILL, which no handler sees), and give up the command's standard output and error
(:func:`detach_stdio`), so a pipeline reading the command (``python -m sim run ... | cat``) ends when the
command ends, not when its last helper does. Where there is no ``prctl`` (macOS, Windows), helpers rely on
their pipes to the parent closing.

SIGTERM and SIGHUP (a closed terminal or SSH session) are turned into :class:`Terminated`, a
``KeyboardInterrupt``, while a command runs (:func:`terminating_signals`), so they unwind the command as
Ctrl-C does: staging folders are removed, locks released, helpers ended.

In the lowest layer, with the standard library only, because the evidence and experiments layers both
start helper processes.
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Iterator

PR_SET_PDEATHSIG = 1


class Terminated(KeyboardInterrupt):
    """The command received SIGTERM or SIGHUP; ``signum`` says which."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def die_with_parent(signum: int = signal.SIGKILL) -> bool:
    """Ask the kernel to send ``signum`` to this process when its parent ends; whether it could.

    Call it in the child. If the parent has already gone (it ended before the request was made), the
    process ends at once with ``signum``.
    """
    parent = os.getppid()
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_PDEATHSIG, int(signum), 0, 0, 0) != 0:
            return False
    except (OSError, AttributeError, ImportError):
        return False
    if os.getppid() != parent or parent == 1:  # the parent ended before the request
        os.kill(os.getpid(), signum)
    return True


def detach_stdio() -> None:
    """Point this process's standard input, output and error at ``/dev/null`` (file descriptors 0-2)."""
    try:
        null = os.open(os.devnull, os.O_RDWR)
    except OSError:
        return
    for fd in (0, 1, 2):
        with contextlib.suppress(OSError):
            os.dup2(null, fd)
    if null > 2:
        os.close(null)


@contextlib.contextmanager
def stdio_detached() -> Iterator[None]:
    """While inside, file descriptors 1 and 2 point at ``/dev/null``; this process's own come back on leaving.

    Processes started meanwhile then do not hold the command's standard output and error.
    """
    import sys

    with contextlib.suppress(OSError, ValueError):
        sys.stdout.flush()
        sys.stderr.flush()
    try:
        saved = [os.dup(1), os.dup(2)]
        null = os.open(os.devnull, os.O_WRONLY)
    except OSError:
        yield
        return
    try:
        os.dup2(null, 1)
        os.dup2(null, 2)
        yield
    finally:
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in (*saved, null):
            os.close(fd)


def helper_preexec(signum: int = signal.SIGTERM):
    """A ``preexec_fn`` for ``subprocess``: the child gets ``signum`` when the command ends."""

    def preexec() -> None:
        die_with_parent(signum)

    return preexec


def _raise_terminated(signum: int, frame) -> None:
    raise Terminated(signum)


@contextlib.contextmanager
def terminating_signals() -> Iterator[None]:
    """While inside, SIGTERM and SIGHUP raise :class:`Terminated` (in the main thread only; else nothing)."""
    previous = {}
    for name in ("SIGTERM", "SIGHUP"):
        sig = getattr(signal, name, None)
        if sig is None:
            continue
        try:
            previous[sig] = signal.signal(sig, _raise_terminated)
        except (ValueError, OSError):  # not the main thread
            break
    try:
        yield
    finally:
        for sig, handler in previous.items():
            with contextlib.suppress(ValueError, OSError, TypeError):
                signal.signal(sig, handler)
