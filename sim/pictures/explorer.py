"""The explorer: a Solara page to move the levers and watch the model answer, year by year.

``python -m sim explore`` serves :func:`Page` in the browser; in a notebook, ``Page()`` shows the same page
inline. The page drives :class:`DivestmentModel` as it is (all replications batched in one model):

- on the left, the year with Play/Pause, Step and Back to the start (which keeps the levers as set), the
  scenario file with its description, and each lever with what it does; "Use the scenario's levers" puts
  the levers back to the file's values. Each change rebuilds the model and steps it to the year reached;
- above the charts, a short "what am I looking at";
- the views of :mod:`sim.pictures.explorer_views`: the mutual workforce against one million, services by
  delivery mode, the map of a chosen service, and a chosen council's services, parts and decisions.

Play steps a year at a time in a thread of the page and stops itself at the end year (Play then starts
again from the first year). Nothing here runs at import but the imports; :mod:`sim.pictures.private`
(imported first) switches off Solara's telemetry. Settings come from the environment (:data:`ENV_SCENARIO`,
:data:`ENV_REPLICATIONS`).
"""

from __future__ import annotations

import html
import threading
import time

from sim.pictures import private  # noqa: F401  (before Solara: no telemetry, no CDN)

# isort: split
import solara

from sim.inputs.scenario import load_scenario
from sim.model import SERVICES, DivestmentModel
from sim.pictures import explorer_views as views
from sim.pictures import style
from sim.pictures.explorer_state import (  # noqa: F401  (the page's state, re-exported)
    ENV_REPLICATIONS,
    ENV_SCENARIO,
    LEVERS,
    PLAY_SECONDS,
    TITLE,
    about,
    base,
    build_model,
    describe,
    lever_changes,
    lever_slider,
    lever_value,
    moved_levers,
    restart,
    scenario_files,
    scenario_levers,
    start_scenario,
    start_seeds,
    with_file,
    with_lever,
)
from sim.pictures.explorer_views import council_decisions, council_parts, councils_now  # noqa: F401

SIDE = "width:340px;flex:none;position:sticky;top:0;max-height:100vh;overflow-y:auto"
"""The controls' column stays in view while the charts scroll."""


def _table(frame, caption: str) -> str:
    """A small HTML table (cells escaped), readable at the page's size."""
    cell = "padding:3px 8px;border-bottom:1px solid #ddd;text-align:left;vertical-align:top"
    head = "".join(f"<th style='{cell}'>{html.escape(str(c))}</th>" for c in frame.columns)
    rows = "".join(
        "<tr>" + "".join(f"<td style='{cell}'>{html.escape(str(v))}</td>" for v in row) + "</tr>"
        for row in frame.itertuples(index=False)
    )
    return (
        f"<table style='border-collapse:collapse;font-size:13px;width:100%'><caption style='text-align:left;"
        f"caption-side:top;font-weight:600;padding:4px 0'>{html.escape(caption)}</caption>"
        f"<tr>{head}</tr>{rows}</table>"
    )


def _note(text: str) -> None:
    solara.HTML(tag="div", unsafe_innerHTML=html.escape(text), style="font-size:13px;color:#555")


@solara.component
def Controls(model: DivestmentModel, year: int, playing: solara.Reactive, act):
    """The year, with Play/Pause, Step and Back to the start."""
    at_end = not model.running
    with solara.Card("Year"):
        solara.HTML(
            tag="div",
            unsafe_innerHTML=f"{style.year_label(year)}",
            style="font-size:30px;font-weight:600;line-height:1.2",
            attributes={"id": "explorer-year"},
        )
        _note(f"councils as they stand in April {year}; the run goes to {style.year_label(model.end_year)}")
        with solara.Row():
            if playing.value:
                solara.Button("❚❚ Pause", color="primary", on_click=lambda: playing.set(False))
            else:
                solara.Button("▶ Play again" if at_end else "▶ Play", color="primary", on_click=act["play"])
            solara.Button(
                "Step one year", color="primary", on_click=act["step"], disabled=playing.value or at_end
            )
        solara.Button(f"Back to {style.year_label(model.start_year)}", on_click=act["restart"], outlined=True)
        _note(
            f"Back to {style.year_label(model.start_year)} keeps the levers as you set them."
            + (
                f" The run has reached its last year: Play again starts from {model.start_year}."
                if at_end
                else ""
            )
        )


@solara.component
def Levers(model: DivestmentModel, act):
    """Scenario file and lever controls, each explained where it is set."""
    files = scenario_files(model.spec.path.parent if model.spec.path else None)
    names = [p.stem for p in files]
    current = model.spec.path.stem if model.spec.path else "baseline"
    with solara.Card("Scenario"):
        solara.Select(
            label="scenario file",
            values=names,
            value=current,
            on_value=lambda n: act["file"](files[names.index(n)]),
        )
        _note(base(model).description or "")
    with solara.Card("Levers"):
        for key in LEVERS:
            s = lever_slider(key, model.p)
            value = model.spec.params[key]

            def change(v, key=key):
                act["lever"](key, v)

            solara.HTML(
                tag="div",
                unsafe_innerHTML=html.escape(f"{s['label']}: {lever_value(key, value)}"),
                style="font-size:15px;font-weight:500;margin-top:10px",
                attributes={"data-lever": key},
            )
            if s["kind"] is bool:
                solara.Checkbox(label="on", value=bool(value), on_value=change)
            elif s["kind"] is int:  # the value is in the label above: no bubble over it while dragging
                solara.SliderInt(
                    "",
                    value=int(value),
                    min=int(s["min"]),
                    max=int(s["max"]),
                    on_value=change,
                    thumb_label=False,
                )
            else:
                solara.SliderFloat(
                    "",
                    value=float(value),
                    min=s["min"],
                    max=s["max"],
                    step=s["step"],
                    on_value=change,
                    thumb_label=False,
                )
            _note(s["help"])
        moved = moved_levers(model)
        _note(f"Levers set here away from the scenario file: {describe(moved) or 'none'}.")
        solara.Button("Use the scenario's levers", on_click=act["levers"], disabled=not moved, outlined=True)


@solara.component
def Chart(draw, model: DivestmentModel, year: int, *extra):
    """A figure of the model as a picture, drawn again only when the model, its year or ``extra`` change."""
    png = solara.use_memo(lambda: views.png(draw(model, *extra)), [model, year, *extra])
    solara.Image(png, width="100%")


@solara.component
def CouncilView(model: DivestmentModel, year: int, council: solara.Reactive):
    """A chosen council's services and parts now, and the decisions about them with reasons and scores."""
    names = dict(zip(model.england.names, model.england.codes, strict=True))
    solara.v.Autocomplete(
        label="council (type to search)",
        items=sorted(names),
        v_model=council.value,
        on_v_model=lambda name: name in names and council.set(name),
        attributes={"id": "explorer-council"},
    )
    code = names[council.value]
    parts = council_parts(model, code)
    log = council_decisions(model, code)
    solara.HTML(unsafe_innerHTML=_table(parts, f"{council.value}'s services in {style.year_label(year)}"))
    solara.HTML(
        unsafe_innerHTML=_table(
            log, f"Decisions about {council.value}'s services so far (replication 1): {len(log)}"
        )
    )
    _note(views.SCORES_TEXT)


@solara.component
def Page():
    """The explorer page."""
    solara.Title(TITLE)
    seeds = solara.use_memo(start_seeds, [])
    model_r = solara.use_reactive(
        solara.use_memo(lambda: build_model(load_scenario(start_scenario()), seeds), [])
    )
    year_r = solara.use_reactive(model_r.value.year)
    playing = solara.use_reactive(False)
    service = solara.use_reactive("libraries")
    council = solara.use_reactive("Suffolk")
    lock = solara.use_memo(threading.Lock, [])

    def put(model: DivestmentModel) -> None:
        model_r.value = model
        year_r.value = model.year

    def step() -> None:
        with lock:
            model_r.value.step()
            year_r.value = model_r.value.year

    def play_loop(cancel: threading.Event) -> None:
        while playing.value and not cancel.is_set():
            time.sleep(PLAY_SECONDS)
            if not playing.value or cancel.is_set():
                return
            step()
            if not model_r.value.running:
                playing.value = False  # at the end: Play shows again, Step is off until Back or Play again

    solara.use_thread(play_loop, dependencies=[playing.value], intrusive_cancel=False)

    def play() -> None:
        if not model_r.value.running:
            with lock:
                put(restart(model_r.value))
        playing.value = True

    def replace(make) -> None:
        with lock:
            put(make(model_r.value))

    act = {
        "play": play,
        "step": step,
        "restart": lambda: (playing.set(False), replace(restart)),
        "file": lambda path: replace(lambda m: with_file(m, path)),
        "lever": lambda key, value: replace(lambda m: with_lever(m, key, value)),
        "levers": lambda: replace(scenario_levers),
    }
    model, year = model_r.value, year_r.value
    solara.HTML(
        tag="h1",
        unsafe_innerHTML=f"{TITLE}: public service mutuals in England's councils",
        style="font-size:24px;font-weight:500;margin:8px 16px",
    )
    # no Sidebar: the same page in a notebook, where a sidebar needs Solara's app layout to show
    with solara.Row(style="align-items:flex-start;padding:0 8px"):
        with solara.Column(style=SIDE):
            Controls(model, year, playing, act)
            Levers(model, act)
        with solara.Column(style="flex:1;min-width:0"):
            with solara.Card("What am I looking at?"):
                solara.HTML(unsafe_innerHTML=about(model), style="font-size:15px")
            with solara.Card("Staff in public service mutuals"):
                Chart(views.workforce_panel, model, year)
            with solara.Card("Who runs each service"):
                Chart(views.modes_panel, model, year)
            with solara.Row(style="align-items:flex-start"):
                with solara.Card("Map", style="flex:2;min-width:0"):
                    labels = {style.service_label(k): k for k in SERVICES}
                    solara.Select(
                        label="service on the map",
                        values=list(labels),
                        value=style.service_label(service.value),
                        on_value=lambda label: service.set(labels[label]),
                    )
                    Chart(views.map_panel, model, year, service.value)
                with solara.Card("A council close up", style="flex:3;min-width:0"):
                    CouncilView(model, year, council)
