"""What the explorer shows, as figures and tables of a model at the year it has reached (no Solara here).

Each view draws every year the model has reached, from the first (a single year draws as points and bars,
not an empty axis), on an axis spanning the scenario's years:

- :func:`workforce_panel`: staff in mutuals by sector (median and 5-95% band across replications), and
  the same total against the one-million ambition of 2014 on a scale that shows the ambition;
- :func:`modes_panel`: each service's parts by delivery mode, one stacked bar a year;
- :func:`map_panel`: the map of a chosen service (:func:`sim.pictures.maps.plot_share_map`);
- :func:`council_parts` and :func:`council_decisions`: one council's services and parts now, and the
  decisions about them with the reason and the appraisal scores behind each, in words.
"""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from sim.model import SERVICES, DivestmentModel
from sim.model.modes import MODES, OPTION_MODE, OPTIONS
from sim.pictures import charts, maps, style

REASONS: dict[str, str] = {
    "initial": "already run this way in April 2014, when the model starts",
    "pipeline": "a change agreed before April 2014, still to take effect",
    "review": "the council reviewed the service under budget pressure and took the best-scoring option",
    "proposal": "staff proposed running it themselves; the council took the best-scoring option",
    "live": "the change agreed earlier took effect",
    "abandoned": "the change agreed earlier was abandoned before it took effect",
    "failure": "the provider failed; the service came back in-house",
    "contract_end": "the contract ended; the service came back in-house",
    "retender": "the contract was re-tendered",
    "takeover": "another provider took the service over",
}
"""Each reason in the decision log (:data:`sim.model.divestment.REASONS`) in words."""

SCORES_TEXT = (
    "Scores: the council's appraisal of each option open to it (the saving, weighted by its budget "
    "pressure, less risk, the cost and barriers of the change, plus peer evidence and support); the "
    "highest wins, so the first listed is the one taken."
)
FONT = 9  # points: every text in the explorer's figures is at least this size, or 8 for notes


def png(fig: Figure, dpi: int = 100) -> bytes:
    """A figure as PNG bytes (the page shows it scaled to its card's width)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


def option_label(option: str) -> str:
    """An appraisal option in words: ``keep`` is keeping the mode and cutting within the service."""
    if option == "keep":
        return "keep as is (cut within)"
    return style.mode_label(MODES[OPTION_MODE[OPTIONS.index(option)]])


def national(model: DivestmentModel) -> pd.DataFrame:
    """National table so far, with a ``replication`` column however many replications."""
    table = model.national()
    if "batch_index" in table:
        return table.rename(columns={"batch_index": "replication"})
    return table.assign(replication=0)


def _fan(ax, table: pd.DataFrame, column: str, label: str, colour: str) -> None:
    """Median line with a point a year, and the 5-95% band (a bar where there is one year so far)."""
    g = table.groupby("year")[column]
    years, mid, lo, hi = g.median().index.to_numpy(), g.median(), g.quantile(0.05), g.quantile(0.95)
    ax.plot(years, mid, color=colour, label=label, lw=2, marker="o", ms=4)
    if len(years) > 1:
        ax.fill_between(years, lo, hi, color=colour, alpha=0.2, lw=0)
    else:
        ax.vlines(years, lo, hi, color=colour, alpha=0.35, lw=6)


def _years(ax, model: DivestmentModel, most: int = 7) -> None:
    """The scenario's years on the x axis, at most ``most`` labels (every other year, third...)."""
    years = np.arange(model.start_year, model.end_year + 1)
    shown = years[:: -(-len(years) // most)]
    ax.set_xlim(model.start_year - 0.5, model.end_year + 0.5)
    ax.set_xticks(shown, [str(y) for y in shown], fontsize=FONT)
    ax.set_xlabel("financial year (from April)", fontsize=FONT)


def workforce_panel(model: DivestmentModel) -> Figure:
    """Staff in mutuals by sector (left), and all of them against the one-million ambition (right)."""
    table = national(model)
    target = model.p["report.target_staff"]
    fig = style.ChartFigure(figsize=(9.5, 4.2), layout="constrained")
    left, right = fig.subplots(1, 2, width_ratios=[2.1, 1])
    for label, column in charts.SECTOR_COLUMNS.items():
        _fan(left, table, column, label, style.SECTOR_COLOURS[label])
    left.set_ylim(0, max(table["mutual_staff"].max() * 1.3, 50_000))
    left.set_ylabel("staff in public service mutuals", fontsize=FONT)
    left.set_title("Staff in mutuals, by sector", fontsize=FONT + 1)
    left.legend(loc="upper left", frameon=False, fontsize=FONT - 1)
    _fan(right, table, "mutual_staff", "all sectors", style.SECTOR_COLOURS["all sectors"])
    right.axhline(target, color=style.TARGET_COLOUR, ls="--", lw=2)
    right.text(
        model.start_year - 0.3,
        target * 0.96,
        f"the {target:,.0f} ambition (2014)",
        va="top",
        fontsize=FONT - 1,
    )
    right.set_ylim(0, target * 1.1)
    h = charts.headline(table, target)
    right.set_title(f"Against the ambition:\n{h['median']:.1f}% of the way", fontsize=FONT + 1)
    for ax, most in ((left, 7), (right, 3)):
        _years(ax, model, most)
        ax.yaxis.set_major_formatter(style.THOUSANDS)
        ax.tick_params(labelsize=FONT)
        ax.grid(alpha=0.3)
    fig.suptitle(f"{model.spec.name}: {charts.headline_text(h, target)}", fontsize=FONT + 1)
    fig.supxlabel(f"{charts.BAND_TEXT} ({model.n_batch})", fontsize=FONT - 1, color="#444444")
    return fig


def modes_panel(model: DivestmentModel) -> Figure:
    """Each service's parts by delivery mode, one bar a year (the mean share across replications)."""
    table = national(model)
    order = [m for m in style.STACK_ORDER if m in MODES]
    fig = style.ChartFigure(figsize=(9.5, 4.6), layout="constrained")
    axes = fig.subplots(1, len(SERVICES), sharey=True)
    for ax, service in zip(axes, SERVICES, strict=True):
        mean = charts.mode_shares(table, service, tuple(order)).groupby("year")[order].mean()
        bottom = np.zeros(len(mean))
        for m in order:
            ax.bar(mean.index, mean[m], bottom=bottom, width=0.8, color=style.MODE_COLOURS[m], lw=0)
            bottom += mean[m].to_numpy()
        mutual = mean[["mutual", "joint_mutual"]].sum(axis=1).iloc[-1]
        ax.set_title(
            f"{style.service_label(service).capitalize()}\n{mutual:.1f}% run by mutuals in "
            f"{style.year_label(model.year)}",
            fontsize=FONT,
        )
        ax.set_ylim(0, 100)
        _years(ax, model, 4)
        ax.tick_params(labelsize=FONT)
        ax.yaxis.set_major_formatter(style.PERCENT)
    axes[0].set_ylabel("% of the service's parts, all councils", fontsize=FONT)
    handles = [Patch(facecolor=style.MODE_COLOURS[m], label=style.mode_label(m)) for m in reversed(order)]
    fig.legend(handles=handles, loc="outside lower center", ncols=4, frameon=False, fontsize=FONT - 1)
    fig.suptitle(
        f"{model.spec.name}: who runs each service, mean over {model.n_batch} replications", fontsize=FONT + 1
    )
    return fig


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


def map_panel(model: DivestmentModel, service: str) -> Figure:
    """The share of replications in which each council's ``service`` is run by a mutual, this year."""
    fig = style.ChartFigure(figsize=(5.6, 6.6), layout="constrained")
    maps.plot_share_map(
        councils_now(model), service, model.year, ax=fig.add_subplot(), scenario=model.spec.name
    )
    return fig


def _part(name: str) -> str:
    return name.replace("_", " ")


def council_parts(model: DivestmentModel, ons_code: str) -> pd.DataFrame:
    """The council's services and their parts at the year reached.

    Mode and staff in the first replication, and in how many replications the part is run by a mutual.
    """
    from sim.model.slots import PART_NAMES

    s = model.slots
    slots = np.flatnonzero(model.england.codes[s.council] == ons_code)
    mutual = np.isin(model.mode[:, slots], [MODES.index("mutual"), MODES.index("joint_mutual")])
    return pd.DataFrame(
        {
            "service": [style.service_label(SERVICES[k]) for k in s.service[slots]],
            "part": [_part(PART_NAMES[k]) for k in s.part[slots]],
            "run by (replication 1)": [style.mode_label(MODES[k]) for k in model.mode[0, slots]],
            "staff (replication 1)": [f"{x:,.0f}" for x in model.staff[0, slots]],
            "run by a mutual in": [f"{k} of {model.n_batch} replications" for k in mutual.sum(axis=0)],
        }
    )


def _scores(row: pd.Series) -> str:
    scored = [(row[f"score_{o}"], o) for o in OPTIONS if np.isfinite(row[f"score_{o}"])]
    return "; ".join(f"{option_label(o)} {v:.2f}" for v, o in sorted(scored, reverse=True))


def council_decisions(model: DivestmentModel, ons_code: str) -> pd.DataFrame:
    """The decisions about one council's services so far (first replication), with reasons and scores."""
    log = model.decisions_frame(r=0)
    log = log[log["ons_code"] == ons_code]
    old, new = log["from_mode"].map(style.mode_label), log["to_mode"].map(style.mode_label)
    change = old + " → " + new
    words = {
        "initial": new + " from the start",
        "pipeline": change + " agreed",
        "review": ("decided: " + change).where(old != new, "keep " + new + ", cut within"),
        "live": change + " takes effect",
        "abandoned": change + " abandoned",
    }
    decision = change.copy()
    for reason, text in words.items():
        decision = decision.where(log["reason"] != reason, text)
    decision = decision.where(log["reason"] != "proposal", words["review"])
    return pd.DataFrame(
        {
            "year": log["year"].map(style.year_label),
            "service": log["service"].map(style.service_label),
            "part": log["part"].map(_part),
            "decision": decision,
            "why": log["reason"].map(lambda r: REASONS.get(r, r)),
            "scores, highest first": log.apply(_scores, axis=1) if len(log) else [],
            "staff": log["staff"].map(lambda x: f"{x:,.0f}"),
        }
    ).reset_index(drop=True)
