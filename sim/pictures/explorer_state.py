"""The explorer's state without Solara: the levers, the scenario files, and the model at a year.

Every change the page makes builds a new :class:`DivestmentModel` (all replications batched in one model)
and steps it to the year reached: a lever (:func:`with_lever`), another scenario file (:func:`with_file`),
the scenario's own levers back (:func:`scenario_levers`), or the first year again (:func:`restart`, which
keeps the levers). Settings come from the environment (:data:`ENV_SCENARIO`, :data:`ENV_REPLICATIONS`).
"""

from __future__ import annotations

import dataclasses
import functools
import os
from pathlib import Path
from typing import Any

from sim.inputs.params import registry
from sim.inputs.scenario import Scenario, load_scenario
from sim.inputs.shipped import scenarios_dir
from sim.model import DivestmentModel
from sim.pictures import style

TITLE = "mutuals-sim explorer"
ENV_SCENARIO = "MUTUALS_EXPLORER_SCENARIO"
"""Environment variable: the scenario file the page opens with (default ``scenarios/baseline.toml``)."""
ENV_REPLICATIONS = "MUTUALS_EXPLORER_REPLICATIONS"
"""Environment variable: replications run together behind every chart (default 20)."""
DEFAULT_REPLICATIONS = 20
PLAY_SECONDS = 0.7
"""Pause between years while playing, so each year can be seen."""
PROJECT_SCENARIOS = scenarios_dir()
"""The shipped scenarios: the checkout's ``scenarios/``, or ``sim/scenarios`` in an installed wheel."""

LEVERS: dict[str, dict[str, Any]] = {
    "support.budget_gbp_m_per_year": {
        "max": 30.0,
        "step": 1.0,
        "help": "National money a year to help councils and staff set up mutuals (advice, plans, legal "
        "costs).",
    },
    "support.end_year": {"max": 2020, "step": 1, "help": "The last year that money is paid."},
    "support.extra_budget_gbp_m_per_year": {
        "max": 30.0,
        "step": 1.0,
        "label": "second support programme",
        "help": "A second programme's money, added to the first from {year}.",
        "from": "support.extra_from_year",
    },
    "policy.simplification": {
        "step": 0.05,
        "help": "How much of a spin-out's red tape (procurement, pensions, contracts) national policy "
        "removes, from {year}.",
        "from": "policy.simplification_from_year",
    },
    "policy.duty_to_consider": {
        "help": "Councils must consider staff proposals to run a service as a mutual, from {year}: it "
        "lowers the cultural barrier to staff-led spin-outs.",
        "from": "policy.duty_from_year",
    },
    "policy.publicity": {
        "step": 0.1,
        "help": "How strongly news of other councils' mutuals spreads (x1 as estimated, x2 twice as strong).",
    },
    "policy.commercialisation": {
        "step": 0.1,
        "help": "National push for councils to trade through their own companies and joint ventures.",
    },
}
"""The levers on the page: the slider's range where it is narrower than the registry's, and what each does."""


def scenario_files(folder: Path | None = None) -> list[Path]:
    """The scenario files offered: the given scenario's folder (default the project's ``scenarios/``)."""
    folder = folder or PROJECT_SCENARIOS
    return sorted(folder.glob("*.toml"))


def start_scenario() -> Path:
    """The scenario file the page opens with (:data:`ENV_SCENARIO`, else ``scenarios/baseline.toml``)."""
    return Path(os.environ.get(ENV_SCENARIO) or PROJECT_SCENARIOS / "baseline.toml").resolve()


def start_seeds() -> list[int]:
    """Seeds of the replications behind the charts (:data:`ENV_REPLICATIONS` of them, from the scenario's)."""
    n = int(os.environ.get(ENV_REPLICATIONS) or DEFAULT_REPLICATIONS)
    return load_scenario(start_scenario()).with_changes({}, replications=n).seeds()


def lever_slider(key: str, p: dict[str, Any] | None = None) -> dict[str, Any]:
    """A lever's control: label, kind, range, step and help (its years from the parameters ``p``)."""
    spec = registry()[key]
    lever = LEVERS[key]
    out = {"key": key, "label": style.param_label(key), "unit": spec.unit, "kind": spec.kind}
    out |= {"min": spec.min, "max": spec.max, "step": 1} | lever
    year = (p or {}).get(lever.get("from", ""), registry()[lever["from"]].default if "from" in lever else 0)
    out["help"] = lever["help"].format(year=style.year_label(int(year)) if year else "")
    return out


def build_model(spec: Scenario, seeds: list[int], year: int | None = None) -> DivestmentModel:
    """A model of ``spec`` with all ``seeds`` batched, stepped to ``year`` (its start year if None)."""
    model = DivestmentModel(scenario=spec, seeds=seeds)
    while year is not None and model.year < min(year, model.end_year):
        model.step()
    return model


@functools.lru_cache(maxsize=32)
def _file(path: Path) -> Scenario:
    return load_scenario(path)


def base(model: DivestmentModel) -> Scenario:
    """The scenario file the model's scenario came from (the baseline defaults if none)."""
    return _file(model.spec.path) if model.spec.path else Scenario(name="baseline")


def with_lever(model: DivestmentModel, key: str, value: Any) -> DivestmentModel:
    """The model rebuilt with one lever changed, stepped to the year ``model`` had reached."""
    file = base(model)
    spec = file.with_changes({**{k: model.spec.params[k] for k in LEVERS}, key: value})
    moved = sum(spec.params[k] != file.params[k] for k in LEVERS)
    if moved:  # the charts' titles say the scenario is not the file's as it stands
        spec = dataclasses.replace(spec, name=f"{file.name} with {moved} lever{'s' * (moved > 1)} moved")
    return build_model(spec, model.seeds, model.year)


def with_file(model: DivestmentModel, path: Path) -> DivestmentModel:
    """A model of another scenario file (its own levers), stepped to the year ``model`` had reached."""
    return build_model(load_scenario(path), model.seeds, model.year)


def restart(model: DivestmentModel) -> DivestmentModel:
    """Back to the first year with the same scenario and levers (what the page's "Back to" button does)."""
    return build_model(model.spec, model.seeds)


def scenario_levers(model: DivestmentModel) -> DivestmentModel:
    """The levers put back to the scenario file's values, at the year reached."""
    return build_model(base(model), model.seeds, model.year)


def lever_changes(spec: Scenario) -> dict[str, Any]:
    """The levers of :data:`LEVERS` whose value in ``spec`` differs from the registry's default."""
    defaults = {k: registry()[k].default for k in LEVERS}
    return {k: spec.params[k] for k in LEVERS if spec.params[k] != defaults[k]}


def moved_levers(model: DivestmentModel) -> dict[str, Any]:
    """The levers set on the page away from the scenario file's values."""
    file = base(model).params
    return {k: model.spec.params[k] for k in LEVERS if model.spec.params[k] != file[k]}


def lever_value(key: str, value: Any) -> str:
    """A lever's value in words (the red tape removed as a share, the rest as :func:`style.param_value`)."""
    if key == "policy.simplification" and isinstance(value, float | int):
        return f"{value:.0%} of the red tape removed"
    return style.param_value(key, value)


def describe(levers: dict[str, Any]) -> str:
    """Levers and their values in words."""
    return "; ".join(f"{lever_slider(k)['label']} {lever_value(k, v)}" for k, v in levers.items())


def about(model: DivestmentModel) -> str:
    """The "what am I looking at" text (HTML)."""
    return (
        f"<p>A simulation of England's {model.england.n} councils deciding, year by year from April "
        f"{model.start_year}, who runs their adult social care, libraries and leisure: themselves, a "
        "company, a trust, a community group, or a <b>public service mutual</b> (an organisation spun out "
        "of the council that its staff co-own). In 2014 the government hoped "
        f"{model.p['report.target_staff']:,} public servants would work in mutuals.</p>"
        "<p><b>Play</b> or <b>Step</b> moves a year on. Choose "
        "a scenario or move a lever on the left to see how a policy changes the answer. Each chart shows "
        f"{model.n_batch} replications (runs of the same scenario with different chance events): lines "
        "are medians, bands the middle 90%. Pick a council below to see why it decided as it did.</p>"
    )
