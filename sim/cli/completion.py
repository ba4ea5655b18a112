"""``mutuals-sim completion bash|zsh``: a shell completion script, made from the command line's parser.

Commands, their options, the choices of options that take choices and the shipped scenario names
(``baseline``, ``sweeps/levers``) complete; anything else completes as a file name. Install with
``mutuals-sim completion bash > ~/.local/share/bash-completion/completions/mutuals-sim`` (bash) or
``mutuals-sim completion zsh > ~/.zfunc/_mutuals-sim`` (zsh; or ``eval "$(mutuals-sim completion zsh)"``).
"""

from __future__ import annotations

import argparse
import shlex

NAME = "completion"
SCENARIO_ARGUMENTS = {"scenario", "sweep", "files"}
"""Arguments (by dest) that take a scenario or sweep file, or a shipped one by name."""


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add the ``completion`` command to the main parser's subparsers."""
    p = sub.add_parser(
        "completion",
        help="print a shell completion script (bash or zsh)",
        description="Print a completion script for the shell: "
        'eval "$(mutuals-sim completion bash)" in ~/.bashrc, or the same with zsh in ~/.zshrc.',
    )
    p.add_argument("shell", choices=("bash", "zsh"), help="the shell")


def _options(parser: argparse.ArgumentParser) -> list[str]:
    return [o for a in parser._actions if a.help != argparse.SUPPRESS for o in a.option_strings]


def bash_script(parser: argparse.ArgumentParser, names: list[str]) -> str:
    """The bash completion function for ``parser`` (the program's), completing ``names`` as scenarios."""
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    words = " ".join(sub.choices)
    commands, values = [], []
    for name, cmd in sub.choices.items():
        positional = [a for a in cmd._actions if not a.option_strings]
        choices = " ".join(str(c) for a in positional if a.choices for c in a.choices)
        if any(a.dest in SCENARIO_ARGUMENTS for a in positional):
            named = " names=$scenarios"
        else:
            named = f" names={shlex.quote(choices)}" if choices else ""
        commands.append(f"        {name}) opts={shlex.quote(' '.join(_options(cmd)))}{named} ;;")
        for action in cmd._actions:
            for option in action.option_strings:
                if action.choices:
                    listed = " ".join(map(str, action.choices))
                    values.append(f'        "{name} {option}") words={shlex.quote(listed)} ;;')
                elif action.dest in SCENARIO_ARGUMENTS:
                    values.append(f'        "{name} {option}") words=$scenarios ;;')
    return "\n".join(
        [
            '# bash completion for mutuals-sim: eval "$(mutuals-sim completion bash)"',
            "_mutuals_sim() {",
            '    local cur="${COMP_WORDS[COMP_CWORD]}" prev="${COMP_WORDS[COMP_CWORD-1]}" cmd="" i',
            f"    local scenarios={shlex.quote(' '.join(names))} opts='' names='' words=''",
            "    for ((i = 1; i < COMP_CWORD; i++)); do",
            '        case "${COMP_WORDS[i]}" in -*) ;; *) cmd="${COMP_WORDS[i]}"; break ;; esac',
            "    done",
            '    case "$cmd" in',
            f'        "") opts={shlex.quote(" ".join(_options(parser)))} names={shlex.quote(words)} ;;',
            *commands,
            "    esac",
            '    case "$cmd $prev" in',
            *values,
            "        *)",
            '            if [[ "$cur" == -* ]]; then',
            '                COMPREPLY=($(compgen -W "$opts" -- "$cur"))',
            "            else",
            '                COMPREPLY=($(compgen -W "$names" -- "$cur"))',
            '                [[ -n "$cmd" ]] && COMPREPLY+=($(compgen -f -- "$cur"))',
            "            fi",
            "            return ;;",
            "    esac",
            '    COMPREPLY=($(compgen -W "$words" -- "$cur"))',
            "}",
            "complete -o filenames -F _mutuals_sim mutuals-sim",
            "",
        ]
    )


def command(args: argparse.Namespace) -> int:
    """Print the completion script for ``args.shell``; returns the exit code."""
    from sim.cli.main import _parser
    from sim.inputs.shipped import shipped_names

    script = bash_script(_parser(), shipped_names())
    if args.shell == "zsh":  # zsh runs bash completion functions through bashcompinit
        script = "autoload -U +X compinit && compinit\nautoload -U +X bashcompinit && bashcompinit\n" + script
    print(script, end="")
    return 0
