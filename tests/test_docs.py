"""docs/ODD.md stays true to the code: parameters it names exist, every lever is named, code paths resolve."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

from sim.inputs import params

DOC_PATH = Path(__file__).resolve().parent.parent / "docs" / "ODD.md"
DOC = DOC_PATH.read_text()
BACKTICKED = re.findall(r"`([^`\n]+)`", DOC)
FILE_SUFFIXES = ("csv", "toml", "py", "md", "png", "json", "parquet")
PARAM_KEY = re.compile(r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$")
CODE_PATH = re.compile(r"^sim(\.[A-Za-z_][A-Za-z0-9_]*)+$")


def parameter_keys(tokens: list[str]) -> list[str]:
    """Backticked tokens that look like a dotted parameter key (`section.name`), file names excepted."""
    return [t for t in tokens if PARAM_KEY.match(t) and t.rsplit(".", 1)[1] not in FILE_SUFFIXES]


def test_the_pattern_finds_parameter_keys_and_skips_files_and_code():
    tokens = [
        "support.budget_gbp_m_per_year",
        "councils_2014.csv",
        "sim.model.rules.appraise",
        "in_house",
        "a b.c",
    ]
    assert parameter_keys(tokens) == ["support.budget_gbp_m_per_year"]


def test_every_parameter_named_exists():
    keys = parameter_keys(BACKTICKED)
    assert len(set(keys)) > 40, "the ODD names too few parameters: has the key pattern changed?"
    unknown = sorted(set(keys) - set(params.registry()))
    assert not unknown, f"docs/ODD.md names parameters not in sim/inputs/parameters.toml: {unknown}"


def test_a_misspelt_key_would_be_caught():
    assert set(parameter_keys(["apraisal.high_jump"])) - set(params.registry()) == {"apraisal.high_jump"}


def test_every_lever_is_described():
    named = set(parameter_keys(BACKTICKED))
    levers = sorted(k for k, s in params.registry().items() if s.tag == "lever")
    assert levers, "the registry has no levers"
    missing = [k for k in levers if k not in named]
    assert not missing, f"levers missing from docs/ODD.md: {missing}"


def _resolve(path: str):
    parts = path.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ModuleNotFoundError:
            continue
        for name in parts[i:]:
            obj = getattr(obj, name)
        return obj
    raise ModuleNotFoundError(path)


@pytest.mark.parametrize("path", sorted({t for t in BACKTICKED if CODE_PATH.match(t)}))
def test_every_code_path_named_exists(path):
    assert _resolve(path) is not None


def test_the_step_stages_are_listed_in_the_models_order():
    from sim.model import DivestmentModel

    stages = re.findall(r"^\s*\d\. ([A-Z][a-z]+(?: [a-z]+)*?):", DivestmentModel.step.__doc__, re.M)
    overview = DOC.split("## 3. Process overview", 1)[1].split("## 4.", 1)[0]
    listed = re.findall(r"^\d\. \*\*([^*]+)\*\*", overview, re.M)
    assert stages and [s.lower() for s in stages] == [s.lower() for s in listed]
    from sim.model.loop import STAGES

    assert len(STAGES) == len(stages), "the loop's stages and the step's docstring list differ"
    named = re.findall(r"`(sim\.model\.stages\.[\w.]+)`", overview)
    assert named == [f"{f.__module__}.{f.__name__}" for f in STAGES], "ODD lists the loop's stages in order"
