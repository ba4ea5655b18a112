"""``python -m sim explore``: open the explorer, a Mesa SolaraViz page, in the browser.

The page (:mod:`sim.pictures.explorer`) is served by ``solara run`` in a child process on a loopback port by
default; the scenario and the number of replications reach it through environment variables. The server
ends with the command: on Ctrl-C, SIGTERM or SIGHUP it is stopped (and waited for), and if the command is
killed outright the kernel stops it (:func:`sim.inputs.lifetime.die_with_parent`), so its port is
free for the next ``explore``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from sim.cli.errors import InputError

NAME = "explore"


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add the ``explore`` command to the main parser's subparsers."""
    ex = sub.add_parser(
        "explore", help="open the explorer in the browser: move the levers, step the model, watch the charts"
    )
    ex.add_argument(
        "--scenario",
        type=Path,
        help="scenario file, or a shipped one by name, to open with (default: baseline)",
    )
    ex.add_argument("--replications", type=int, default=20, help="replications per chart (default 20)")
    ex.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    ex.add_argument("--port", type=int, default=8765, help="port to listen on (default 8765; 0 for any free)")
    ex.add_argument("--open", action="store_true", help="also open the page in the default browser")


def server_command(args: argparse.Namespace) -> list[str]:
    """The ``solara run`` command line serving the explorer page."""
    return [
        sys.executable,
        "-m",
        "solara",
        "run",
        "sim.pictures.explorer:Page",
        "--host",
        args.host,
        "--port",
        str(args.port),
        "--production",
        "--open" if args.open else "--no-open",
    ]


def command(args: argparse.Namespace) -> int:
    """Run ``python -m sim explore`` until interrupted; returns the exit code."""
    from sim.inputs.scenario import load_scenario

    try:
        from sim.pictures.explorer import ENV_REPLICATIONS, ENV_SCENARIO
    except ImportError as exc:
        from sim.inputs.extras import install_hint, message

        raise InputError(
            message(exc.name or "", "explore")
            or f"explore needs the 'explore' extra ({exc.name} is missing): {install_hint('explore')}"
        ) from None

    if args.replications < 1:
        raise InputError(f"--replications must be at least 1, got {args.replications}")
    env = dict(os.environ, **{ENV_REPLICATIONS: str(args.replications)})
    if args.scenario is not None:
        from sim.inputs.shipped import find_scenario

        scenario_file = find_scenario(args.scenario)
        load_scenario(scenario_file)  # a bad file is reported here, before the server starts
        env[ENV_SCENARIO] = str(scenario_file.resolve())
    print(f"explorer: http://{args.host}:{args.port} (Ctrl-C to stop)", flush=True)
    return serve(server_command(args), env)


def serve(argv: list[str], env: dict[str, str] | None = None, grace: float = 5.0) -> int:
    """Run the server ``argv`` to its end; stop it (SIGTERM, SIGKILL after ``grace`` s) if this ends first."""
    import signal

    from sim.inputs.lifetime import helper_preexec

    server = subprocess.Popen(argv, env=env, preexec_fn=helper_preexec(signal.SIGTERM))  # noqa: PLW1509
    try:
        return server.wait()
    finally:
        if server.poll() is None:
            server.terminate()
            try:
                server.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
