"""``python -m sim explore``: open the explorer (:mod:`sim.pictures.explorer`) in the browser.

The page is served by Solara's own server (``solara run``) inside this process, on a loopback port by
default, so the server ends when the command ends, however it ends (Ctrl-C, SIGTERM, SIGHUP, or killed):
there is no child process to outlive it. It is private: Solara's telemetry and its PyPI version check are
off and every browser file comes from the installed ``solara-assets`` (:mod:`sim.pictures.private`). The
scenario and the number of replications reach the page through environment variables.
"""

from __future__ import annotations

import argparse
import os
import socket
import warnings
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


def server_arguments(args: argparse.Namespace) -> list[str]:
    """The arguments of ``solara run`` serving the explorer page (no version check, production mode)."""
    return [
        "sim.pictures.explorer:Page",
        "--host",
        args.host,
        "--port",
        str(args.port),
        "--production",
        "--no-check-version",
        "--open" if args.open else "--no-open",
    ]


def _port(host: str, port: int) -> int:
    """``port`` if it is free on ``host`` (any free port if 0); bad input if it is taken."""
    try:
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as s:
            s.bind((host, port))
            return s.getsockname()[1]
    except OSError as exc:
        raise InputError(f"--host {host} --port {port}: cannot listen there ({exc.strerror}); "
                         "choose another port with --port") from None  # fmt: skip


def command(args: argparse.Namespace) -> int:
    """Serve the explorer until interrupted; returns the exit code (0 on Ctrl-C)."""
    from sim.inputs.scenario import load_scenario

    if args.replications < 1:
        raise InputError(f"--replications must be at least 1, got {args.replications}")
    scenario_file = None
    if args.scenario is not None:
        from sim.inputs.shipped import find_scenario

        scenario_file = find_scenario(args.scenario)  # a shipped name or a file
        load_scenario(scenario_file)  # a bad file is reported here, before the server starts
    args.port = _port(args.host, args.port)  # a taken port too
    try:
        from sim.pictures import private

        private.switch_off()  # before Solara is imported: it reads its settings once
        os.environ.setdefault("SOLARA_THEME_TITLE", "mutuals-sim explorer")  # the tab's name while loading
        os.environ.setdefault("SOLARA_THEME_SHOW_BANNER", "False")  # no "runs on Solara" over the page
        from solara.__main__ import run

        from sim.pictures.explorer import ENV_REPLICATIONS, ENV_SCENARIO
    except ImportError as exc:
        from sim.inputs.extras import install_hint, message

        raise InputError(
            message(exc.name or "", "explore")
            or f"explore needs the 'explore' extra ({exc.name} is missing): {install_hint('explore')}"
        ) from None

    os.environ[ENV_REPLICATIONS] = str(args.replications)
    if args.scenario is not None:
        os.environ[ENV_SCENARIO] = str(scenario_file.resolve())
    print(f"explorer: http://{args.host}:{args.port} (Ctrl-C to stop)", flush=True)
    # Solara warns on each page load over http that it cannot set a cross-site cookie: no matter here
    warnings.filterwarnings("ignore", message="Cookies with samesite=none require https")
    try:
        run.main(args=server_arguments(args), prog_name="solara run", standalone_mode=False)
    except KeyboardInterrupt:
        pass
    except Exception as exc:  # click turns a KeyboardInterrupt (Ctrl-C, or SIGTERM/SIGHUP) into its Abort
        if type(exc).__name__ != "Abort" or not isinstance(exc.__context__, KeyboardInterrupt):
            raise
    print("explorer stopped", flush=True)
    return 0
