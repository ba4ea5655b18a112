"""The headline's anatomy: what the projected mutual workforce and spending rest on.

Every run splits mutual staff and spending into three parts (national.csv, written by
:func:`sim.model.stages.record.anatomy`): the mutuals of the start year as they stand now, local-government
mutuals formed since, and mutuals outside local government formed since (from the dated programmes).
What a Sobol sweep over every uncertainty at its plausible range found the headlines to rest on is kept in
``sim/data/headline_sensitivity.toml`` (written by :func:`write_dominance` from ``compare``'s
``headline_drivers.csv``); a run's summary says in words when a parameter whose source is an assumption
carries more than half of a headline's variance.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pandas as pd

PARTS = {
    "stock": "the mutuals of the start year",
    "lg_new": "local-government mutuals formed since",
    "outside_new": "mutuals outside local government formed since",
}
"""The parts of the headline, in order, with their words."""
COLUMNS = {
    "staff": ("mutual_staff_stock", "mutual_staff_lg_new", "mutual_staff_outside_new"),
    "spend": ("mutual_spend_stock_gbp_m", "mutual_spend_lg_new_gbp_m", "mutual_spend_outside_new_gbp_m"),
}
"""The national columns of each part, for staff and for spending (in the order of :data:`PARTS`)."""
HEADLINES = {"staff": "mutual_staff", "spend": "mutual_spend_gbp_m"}
DOMINANCE_FILE = Path(__file__).resolve().parents[1] / "data" / "headline_sensitivity.toml"
MAJORITY = 0.5
"""A parameter carries most of a headline's variance when its total-order Sobol index exceeds this."""


def split(national: pd.DataFrame, year: int | None = None) -> pd.DataFrame:
    """Median staff and spending of each part in ``year`` (default the last), and its share of the median.

    Returns:
        One row per part (index :data:`PARTS`): ``staff``, ``staff_share``, ``spend_gbp_m``, ``spend_share``.
    """
    year = int(national["year"].max()) if year is None else year
    rows = national[national["year"] == year]
    out = pd.DataFrame(index=list(PARTS))
    for what, name in (("staff", "staff"), ("spend", "spend_gbp_m")):
        medians = [float(rows[c].median()) for c in COLUMNS[what]]
        total = sum(medians)
        out[name] = medians
        out[f"{what}_share"] = [v / total if total else 0.0 for v in medians]
    out.attrs["year"] = year
    return out


def lines(national: pd.DataFrame, year: int | None = None) -> list[str]:
    """The anatomy in words, one line for staff and one for spending (medians across replications)."""
    table = split(national, year)
    y = table.attrs["year"]
    out = []
    for what, column, fmt in (("staff", "staff", "{:,.0f}"), ("spend", "spend_gbp_m", "GBP {:,.0f}m")):
        parts = "; ".join(
            f"{PARTS[k]} {fmt.format(table.at[k, column])} ({table.at[k, f'{what}_share']:.0%})"
            for k in PARTS
        )
        noun = "mutual staff" if what == "staff" else "mutual spending"
        out.append(f"{y}-{str(y + 1)[2:]} {noun}: {parts}")
    return out


def dominance(path: Path = DOMINANCE_FILE) -> list[dict]:
    """The shipped record of what dominates each headline: one dict per headline and parameter listed."""
    if not path.is_file():
        return []
    return list(tomllib.loads(path.read_text()).get("driver", []))


def warnings(records: list[dict] | None = None) -> list[str]:
    """Sentences for each assumption that carries more than half of a headline's Sobol variance."""
    records = dominance() if records is None else records
    out = []
    for d in records:
        if d["basis"] == "assumption" and d["ST"] > MAJORITY:
            out.append(
                f"Caution: {d['parameter']}, an assumption, carries {d['ST']:.0%} of the "
                f"variance of {d['headline']} in {d['year']} (total-order Sobol index, sweep of every "
                f"uncertainty at its plausible range, N = {d['N']}); the headline rests on it."
            )
    return out


def verdict(records: list[dict] | None = None) -> list[str]:
    """What the shipped sweep found each headline to rest on: the cautions, or one sentence that none."""
    records = dominance() if records is None else records
    if not records:
        return []
    cautions = warnings(records)
    if cautions:
        return cautions
    top = {}
    for d in records:
        if d["headline"] not in top or d["ST"] > top[d["headline"]]["ST"]:
            top[d["headline"]] = d
    largest = "; ".join(f"{h}: {d['parameter']} ({d['basis']}, {d['ST']:.2f})" for h, d in top.items())
    n = records[0]["N"]
    return [
        f"No assumption carries more than {MAJORITY:.0%} of either headline's variance (Sobol sweep of every "
        f"uncertainty at its plausible range, N = {n}); the largest total-order indices: {largest}."
    ]


def basis(source: str) -> str:
    """What a parameter's default rests on, from its source.

    ``assumption`` for an assumption, ``calibrated`` for a fit to the targets known by 2014 (whose priors may
    be assumptions), else ``evidence`` (a citation of the record).
    """
    head = source.strip().lower()
    if head.startswith("assumption"):
        return "assumption"
    return "calibrated" if head.startswith("calibrated") else "evidence"


def drivers(indices: pd.DataFrame, sources: dict[str, str], top: int = 3) -> pd.DataFrame:
    """The parameters with the largest total-order index for each arm and metric, with their basis.

    Args:
        indices: :func:`sim.experiments.sensitivity.sobol`'s first table.
        sources: each parameter's source in the registry.
        top: how many parameters to keep for each arm and metric.
    """
    columns = ["arm", "metric", "rank", "parameter", "tag", "basis", "ST", "S1", "source"]
    if indices.empty:
        return pd.DataFrame(columns=columns)
    rows = []
    for (arm, metric), g in indices.groupby(["arm", "metric"], sort=False):
        for rank, (_, r) in enumerate(g.sort_values("ST", ascending=False).head(top).iterrows(), 1):
            src = sources.get(r["parameter"], "")
            rows.append(
                {
                    "arm": arm,
                    "metric": metric,
                    "rank": rank,
                    "parameter": r["parameter"],
                    "tag": r["tag"],
                    "basis": basis(src),
                    "ST": float(r["ST"]),
                    "S1": float(r["S1"]),
                    "source": src,
                }
            )
    return pd.DataFrame(rows, columns=columns)


def drivers_markdown(table: pd.DataFrame) -> str:
    """The report's section naming what dominates each headline, evidence or assumption, in words."""
    if table.empty:
        return ""
    n, year = int(table["N"].iloc[0]), int(table["year"].iloc[0])
    text = [
        "",
        f"## What each headline rests on ({year})",
        "",
        f"The three parameters with the largest total-order Sobol index (ST) of each metric (N = {n}); "
        "`basis` is `evidence` when the parameter's source cites the record, `calibrated` when it is a fit "
        "to the targets known by 2014, `assumption` when it is an assumption (`python -m sim params` gives "
        "each source). All in headline_drivers.csv.",
        "",
        "| arm | metric | parameter | tag | basis | ST | S1 |",
        "|---|---|---|---|---|---|---|",
    ]
    for _, r in table.iterrows():
        text.append(
            f"| {r['arm']} | {r['metric']} | `{r['parameter']}` | {r['tag']} | {r['basis']} | "
            f"{r['ST']:.2f} | {r['S1']:.2f} |"
        )
    heavy = table[(table["basis"] == "assumption") & (table["ST"] > MAJORITY)]
    text.append("")
    for _, r in heavy.iterrows():
        text.append(
            f"**{r['metric']} ({r['arm']}) rests on an assumption: `{r['parameter']}` carries "
            f"{r['ST']:.0%} of its variance.**"
        )
    if heavy.empty:
        text.append(f"No assumption carries more than {MAJORITY:.0%} of any metric's variance.")
    return "\n".join(text) + "\n"


def write_dominance(drivers_csv: Path, out: Path = DOMINANCE_FILE, arm: str | None = None) -> str:
    """Keep a comparison's drivers of the two headlines (one arm) as the shipped record a run reads."""
    table = pd.read_csv(drivers_csv)
    arm = table["arm"].iloc[0] if arm is None else arm
    table = table[(table["arm"] == arm) & table["metric"].isin(HEADLINES.values())]
    lines = [
        "# Written by `python -m sim.experiments.anatomy`: what each headline rests on, from the Sobol",
        "# sweep over every uncertainty at its plausible range (scenarios/sweeps/headline.toml).",
        "",
    ]
    for _, r in table.iterrows():
        lines += [
            "[[driver]]",
            f'headline = "{r["metric"]}"',
            f'parameter = "{r["parameter"]}"',
            f'basis = "{r["basis"]}"',
            f'tag = "{r["tag"]}"',
            f"ST = {float(r['ST']):.3f}",
            f"S1 = {float(r['S1']):.3f}",
            f"N = {int(r['N'])}",
            f"year = {int(r['year'])}",
            f"source = {_quote(str(r['source']))}",
            "",
        ]
    text = "\n".join(lines)
    out.write_text(text)
    return text


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


if __name__ == "__main__":
    import sys

    print(write_dominance(Path(sys.argv[1])))
