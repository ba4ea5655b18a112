"""The explorer: a Mesa SolaraViz page to move the levers and watch the model answer, year by year.

``python -m sim explore`` serves :func:`Page` in the browser; in a notebook, ``Page()`` shows the same page
inline. The page is Mesa's own ``SolaraViz`` (play, step, reset) around :class:`DivestmentModel` as it is,
with these views of the model, each redrawn as the model steps:

- levers and scenario: choose a scenario file, then move the levers; each change rebuilds the model (all
  replications batched in one model) and steps it to the year it had reached, so the charts answer at once;
- the mutual workforce fan (median and 5-95% band across replications) against one million;
- services by delivery mode (mean share across replications, stacks add up to 100%);
- the hex map of a chosen service: the share of replications in which each council's service is a mutual;
- the decision log of a chosen council (the first replication).

SolaraViz's Reset rebuilds the model from ``model.scenario``: a Mesa ``Scenario`` whose class carries our
scenario as ``spec`` (:func:`carrier`), so a Reset keeps the levers. Nothing here runs at import but the
imports; settings come from the environment (:data:`ENV_SCENARIO`, :data:`ENV_REPLICATIONS`).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import mesa
import numpy as np
import pandas as pd
import solara
from matplotlib.figure import Figure
from mesa.visualization import SolaraViz
from mesa.visualization.utils import update_counter

from sim.inputs.params import registry
from sim.inputs.scenario import Scenario, load_scenario
from sim.inputs.shipped import scenarios_dir
from sim.model import SERVICES, DivestmentModel
from sim.model.rules import MODES
from sim.pictures import charts, maps, style

ENV_SCENARIO = "MUTUALS_EXPLORER_SCENARIO"
"""Environment variable: the scenario file the page opens with (default ``scenarios/baseline.toml``)."""
ENV_REPLICATIONS = "MUTUALS_EXPLORER_REPLICATIONS"
"""Environment variable: replications run together behind every chart (default 20)."""
DEFAULT_REPLICATIONS = 20
PROJECT_SCENARIOS = scenarios_dir()
"""The shipped scenarios: the checkout's ``scenarios/``, or ``sim/scenarios`` in an installed wheel."""

LEVERS: dict[str, dict[str, Any]] = {
    "support.budget_gbp_m_per_year": {"max": 30.0, "step": 1.0},
    "support.end_year": {"max": 2020, "step": 1},
    "support.extra_budget_gbp_m_per_year": {"max": 30.0, "step": 1.0},
    "policy.simplification": {"step": 0.05},
    "policy.duty_to_consider": {},
    "policy.publicity": {"step": 0.1},
    "policy.commercialisation": {"step": 0.1},
}
"""The levers on the page, with the slider's range where it is narrower than the registry's."""


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


def lever_slider(key: str) -> dict[str, Any]:
    """A lever's control: its label, kind, range and step (from the registry, narrowed by :data:`LEVERS`)."""
    spec = registry()[key]
    out = {"key": key, "label": style.param_label(key), "unit": spec.unit, "kind": spec.kind}
    out |= {"min": spec.min, "max": spec.max, "step": 1} | LEVERS[key]
    return out


def carrier(spec: Scenario) -> mesa.experimental.scenarios.Scenario:
    """A Mesa ``Scenario`` carrying ours: its class holds ``spec``, so Reset's ``type(s)()`` keeps it."""
    cls = type("ExplorerScenario", (mesa.experimental.scenarios.Scenario,), {"spec": spec})
    return cls()


def build_model(spec: Scenario, seeds: list[int], year: int | None = None) -> DivestmentModel:
    """A model of ``spec`` with all ``seeds`` batched, stepped to ``year`` (its start year if None)."""
    model = DivestmentModel(scenario=carrier(spec), seeds=seeds)
    while year is not None and model.year < min(year, model.end_year):
        model.step()
    return model


def with_lever(model: DivestmentModel, key: str, value: Any) -> DivestmentModel:
    """The model rebuilt with one lever changed, stepped to the year ``model`` had reached."""
    changes = {**lever_changes(model.spec), key: value}
    base = load_scenario(model.spec.path) if model.spec.path else Scenario(name="baseline")
    spec = base.with_changes(changes)
    return build_model(spec, model.seeds, model.year)


def with_file(model: DivestmentModel, path: Path) -> DivestmentModel:
    """A model of another scenario file (its own levers), stepped to the year ``model`` had reached."""
    return build_model(load_scenario(path), model.seeds, model.year)


def lever_changes(spec: Scenario) -> dict[str, Any]:
    """The levers of :data:`LEVERS` whose value in ``spec`` differs from the registry's default."""
    defaults = {k: registry()[k].default for k in LEVERS}
    return {k: spec.params[k] for k in LEVERS if spec.params[k] != defaults[k]}


def _national(model: DivestmentModel) -> pd.DataFrame:
    """National table so far, with a ``replication`` column however many replications."""
    national = model.national()
    if "batch_index" in national:
        return national.rename(columns={"batch_index": "replication"})
    return national.assign(replication=0)


def councils_now(model: DivestmentModel) -> pd.DataFrame:
    """Each council's services' modes at the start of the year reached, one row per replication and slot.

    Read from the model's state (``model.mode``), since its council table is complete only at the end.
    """
    s, R = model.slots, model.n_batch
    return pd.DataFrame(
        {
            "ons_code": np.tile(model.england.codes[s.council], R),
            "service": np.tile(np.array(SERVICES)[s.service], R),
            "year": model.year,
            "replication": np.repeat(np.arange(R), s.n),
            "mode": np.array(MODES)[model.mode.ravel()],
        }
    )


def workforce_panel(model: DivestmentModel) -> Figure:
    """The workforce fan so far (all the scenario's years on the axis), headline for the year reached."""
    national = _national(model)
    target = model.p["report.target_staff"]
    fig = style.ChartFigure(figsize=(6.4, 4.2), layout="constrained")
    ax = fig.add_subplot()
    for label, column in charts.SECTOR_COLUMNS.items():
        charts.fan(ax, national, column, label, style.SECTOR_COLOURS[label])
    ax.set_xlim(model.start_year, model.end_year)
    ax.set_ylim(0, max(national["mutual_staff"].max() * 1.25, 50_000))
    ax.yaxis.set_major_formatter(style.THOUSANDS)
    ax.set_xlabel("financial year (start)")
    ax.set_ylabel("staff in public service mutuals")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", frameon=False, fontsize=8)
    h = charts.headline(national, target)
    ax.set_title(f"{model.spec.name}: {charts.headline_text(h, target)}", fontsize=8.5, wrap=True)
    fig.supxlabel(f"{charts.BAND_TEXT} ({model.n_batch})", fontsize=7, color="#444444")
    return fig


def modes_panel(model: DivestmentModel) -> Figure:
    """Services by delivery mode so far: mean share across replications (stacks add up to 100%)."""
    national = _national(model)
    years = (model.start_year, model.end_year)
    return charts.modes_figure(national, SERVICES, MODES, scenario=model.spec.name, xlim=years, compact=True)


def map_panel(model: DivestmentModel, service: str) -> Figure:
    """The share of replications in which each council's ``service`` is run by a mutual, this year."""
    councils = councils_now(model)
    fig = style.ChartFigure(figsize=(5.6, 6.6), layout="constrained")
    maps.plot_share_map(councils, service, model.year, ax=fig.add_subplot(), scenario=model.spec.name)
    return fig


def decision_log(model: DivestmentModel, ons_code: str) -> pd.DataFrame:
    """The decisions about one council's services so far, in the first replication, in words."""
    log = model.decisions_frame(r=0)
    log = log[log["ons_code"] == ons_code]
    columns = [c for c in ("year", "service", "part", "from_mode", "to_mode", "reason") if c in log]
    out = log[columns].copy()
    for c in ("from_mode", "to_mode"):
        if c in out:
            out[c] = out[c].map(style.mode_label)
    if "service" in out:
        out["service"] = out["service"].map(style.service_label)
    return out.reset_index(drop=True)


@solara.component
def LeverPanel(model_r: solara.Reactive, model: DivestmentModel):
    """Scenario file and lever controls; each change rebuilds the model at the year it had reached."""
    update_counter.get()
    files = scenario_files(model.spec.path.parent if model.spec.path else None)
    names = [p.stem for p in files]
    current = model.spec.path.stem if model.spec.path else "baseline"

    def choose(name: str) -> None:
        model_r.value = with_file(model_r.value, files[names.index(name)])

    with solara.Card("Scenario and levers"):
        solara.Select(label="scenario file", values=names, value=current, on_value=choose)
        for key in LEVERS:
            s = lever_slider(key)
            value = model.spec.params[key]

            def change(v, key=key):
                model_r.value = with_lever(model_r.value, key, v)

            label = f"{s['label']}: {style.param_value(key, value)}"
            if s["kind"] is bool:
                solara.Checkbox(label=label, value=bool(value), on_value=change)
            elif s["kind"] is int:
                solara.SliderInt(
                    label=label, value=int(value), min=int(s["min"]), max=int(s["max"]), on_value=change
                )
            else:
                solara.SliderFloat(
                    label=label, value=float(value), min=s["min"], max=s["max"], step=s["step"],
                    on_value=change,
                )  # fmt: skip
        solara.Markdown(
            f"**{model.spec.name}**, {style.year_label(model.year)}; {model.n_batch} replications. "
            f"Levers changed: {style.describe_changes(lever_changes(model.spec))}."
        )


@solara.component
def WorkforceView(model: DivestmentModel):
    """The workforce fan against one million."""
    update_counter.get()
    solara.FigureMatplotlib(workforce_panel(model), format="png")


@solara.component
def ModesView(model: DivestmentModel):
    """Services by delivery mode."""
    update_counter.get()
    solara.FigureMatplotlib(modes_panel(model), format="png")


@solara.component
def MapView(service_r: solara.Reactive, model: DivestmentModel):
    """The hex map of a chosen service."""
    update_counter.get()
    solara.Select(label="service on the map", values=list(SERVICES), value=service_r)
    solara.FigureMatplotlib(map_panel(model, service_r.value), format="png")


@solara.component
def DecisionsView(council_r: solara.Reactive, model: DivestmentModel):
    """The decision log of a chosen council."""
    update_counter.get()
    names = dict(zip(model.england.names, model.england.codes, strict=True))
    solara.Select(label="council", values=sorted(names), value=council_r)
    log = decision_log(model, names[council_r.value])
    solara.Markdown(f"Decisions about {council_r.value}'s services, replication 0: {len(log)}")
    solara.DataFrame(log, items_per_page=8)


def _bound(component, state: solara.Reactive):
    """``component`` with its page state bound, as one Solara component made once per page.

    SolaraViz wraps (and so remounts on every new model) any view that is not a Solara component; a view
    made once keeps its widgets, so a slider being moved keeps its place while the model is rebuilt.
    """

    @solara.component
    def View(model: DivestmentModel):
        return component(state, model)

    View.__name__ = component.__name__
    return View


@solara.component
def Page():
    """The explorer page: SolaraViz around the model, with the views above."""
    seeds = solara.use_memo(start_seeds, [])
    initial = solara.use_memo(lambda: build_model(load_scenario(start_scenario()), seeds), [])
    model_r = solara.use_reactive(initial)
    service_r = solara.use_reactive("libraries")
    council_r = solara.use_reactive("Suffolk")
    components = solara.use_memo(
        lambda: [
            _bound(LeverPanel, model_r),
            WorkforceView,
            ModesView,
            _bound(MapView, service_r),
            _bound(DecisionsView, council_r),
        ],
        [],
    )
    SolaraViz(model_r, components=components, model_params={"seeds": seeds}, name="mutuals-sim explorer")
