"""Comparing a sweep's arms: paired effects against the baseline arm, outcomes, Sobol indices, a report.

Effects are paired by seed: each arm's run minus the baseline arm's run with the same replication (same
seed) at the same design point, so common random numbers cancel the noise both share. Notebook use::

    from sim.experiments import compare
    res = compare.load("results/sweep-levers")
    compare.paired_effects(res)            # median and 90% interval of each arm's effect in the end year
    compare.fan_figure(res)                # a matplotlib Figure

``python -m sim compare DIR`` writes all of it to ``DIR/compare/`` (see :func:`write_comparison`).

Longer than 300 lines because paired effects, outcomes, Sobol indices and the report all read the
same grouping of a sweep's runs.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.experiments.design import show
from sim.experiments.store import SweepError, read_design, read_failures, read_manifest, read_runs
from sim.model.outcomes import METRICS


@dataclass(frozen=True)
class SweepResults:
    """A sweep's results folder, read.

    Attributes:
        out: the folder.
        manifest: manifest.json.
        runs: national rows (ids, year, metrics), with the case's ``label`` from design.parquet.
        failures: runs that raised.
        design: one row per case.
    """

    out: Path
    manifest: dict[str, Any]
    runs: pd.DataFrame
    failures: pd.DataFrame
    design: pd.DataFrame

    @property
    def sweep(self) -> dict[str, Any]:
        """The resolved sweep, as recorded in the manifest."""
        return self.manifest["sweep"]

    @property
    def end_year(self) -> int:
        """Last year simulated."""
        return self.sweep["run"]["end_year"]

    def grouping(self) -> tuple[str, str, list[str]] | None:
        """(column, reference, pairing keys) of the comparison, or None if nothing is compared.

        Several arms: each arm against the baseline arm, paired by design point and replication.
        One arm and a factorial design: each design point against the one at the base scenario's values
        (or the first), paired by replication. Otherwise (a Latin hypercube or Sobol design alone): None.
        """
        if len(self.sweep["arms"]) > 1:
            return "arm", self.sweep["baseline_arm"], ["point", "replication"]
        design = self.sweep["design"]
        if design and design["kind"] == "factorial" and len(self.design) > 1:
            base = self.sweep["base_scenario"]["params"]
            keys = [f["key"] for f in design["factors"]]
            at_base = (self.design[keys] == pd.Series({k: base[k] for k in keys})).all(axis=1)
            reference = self.design.loc[at_base.idxmax() if at_base.any() else 0, "label"]
            return "label", reference, ["replication"]
        return None


def load(out: str | Path, metrics: dict[str, str] = METRICS) -> SweepResults:
    """Read a sweep's results folder (the columns needed for comparison)."""
    out = Path(out)
    manifest = read_manifest(out)
    if not (out / "design.parquet").is_file():
        kind = "a `run` results folder" if "scenario" in manifest else "not a sweep results folder"
        raise SweepError(
            f"{out}: {kind} (no design.parquet); compare needs a folder written by `python -m sim sweep`"
        )
    design = read_design(out)
    columns = ["run_id", "case", "arm_index", "arm", "point", "replication", "seed", "year", *metrics]
    runs = read_runs(out, columns=columns)
    if runs.empty:
        raise ValueError(f"{out}: no finished runs to compare")
    runs = runs.merge(design[["case", "label"]], on="case", how="left")
    return SweepResults(out, manifest, runs, read_failures(out), design)


def _final(res: SweepResults, year: int | None) -> tuple[pd.DataFrame, int]:
    year = res.end_year if year is None else year
    if year not in set(res.runs["year"]):
        raise ValueError(
            f"year {year} is not in the results (years {res.runs.year.min()}-{res.runs.year.max()})"
        )
    return res.runs[res.runs["year"] == year], year


def _changes(res: SweepResults, name: str) -> str:
    changes = res.sweep["arms"].get(name) if res.grouping()[0] == "arm" else None
    if changes is None:
        return name if res.grouping()[0] == "label" else ""
    return ", ".join(f"{k}={show(v)}" for k, v in changes.items()) or "(base scenario)"


def paired_effects(
    res: SweepResults, year: int | None = None, metrics: dict[str, str] = METRICS
) -> pd.DataFrame:
    """Each arm's effect against the baseline arm in ``year``: paired differences, summarised.

    Returns:
        One row per arm and metric: ``arm``, ``reference``, ``changes``, ``metric``, ``n_pairs``,
        ``reference_median`` (the baseline's level), ``median``, ``p05``, ``p95`` and ``mean`` of the
        differences (arm minus baseline, same seed and design point), ``share_above_zero``.
        Empty if the sweep has nothing to compare (see :meth:`SweepResults.grouping`).
    """
    grouping = res.grouping()
    cols = ["arm", "reference", "changes", "metric", "n_pairs", "reference_median"]
    cols += ["median", "p05", "p95", "mean", "share_above_zero"]
    if grouping is None:
        return pd.DataFrame(columns=cols)
    final, year = _final(res, year)
    column, reference, keys = grouping
    ref = final[final[column] == reference]
    rows = []
    for name, part in final.groupby(column, sort=False):
        if name == reference:
            continue
        pairs = part.merge(ref, on=keys, suffixes=("", "_ref"))
        for metric in metrics:
            diff = (pairs[metric] - pairs[f"{metric}_ref"]).to_numpy(dtype=float)
            ok = len(diff) > 0
            rows.append(
                {
                    "arm": name,
                    "reference": reference,
                    "changes": _changes(res, name),
                    "metric": metric,
                    "n_pairs": len(diff),
                    "reference_median": float(np.median(ref[metric])) if len(ref) else np.nan,
                    "median": float(np.median(diff)) if ok else np.nan,
                    "p05": float(np.quantile(diff, 0.05)) if ok else np.nan,
                    "p95": float(np.quantile(diff, 0.95)) if ok else np.nan,
                    "mean": float(diff.mean()) if ok else np.nan,
                    "share_above_zero": float((diff > 0).mean()) if ok else np.nan,
                }
            )
    return pd.DataFrame(rows, columns=cols)


def outcomes(res: SweepResults, year: int | None = None, metrics: dict[str, str] = METRICS) -> pd.DataFrame:
    """Levels in ``year`` by arm (or factorial point): runs, median, 5th and 95th percentiles."""
    final, year = _final(res, year)
    grouping = res.grouping()
    column = grouping[0] if grouping else "arm"
    g = final.groupby(column, sort=False)[list(metrics)]
    table = pd.concat({"median": g.median(), "p05": g.quantile(0.05), "p95": g.quantile(0.95)}, axis=1)
    table.columns = [f"{metric}_{stat}" for stat, metric in table.columns]
    table = table[[f"{m}_{s}" for m in metrics for s in ("median", "p05", "p95")]]
    table.insert(0, "n_runs", g.size())
    return table.rename_axis("arm").reset_index()


def sobol_indices(
    res: SweepResults, year: int | None = None, metrics: dict[str, str] = METRICS
) -> pd.DataFrame:
    """First and total order Sobol indices (SALib.analyze.sobol) of each metric in ``year``, per arm.

    The output at each design point is the mean over its replications. Indices are NaN where the output
    does not vary. Empty unless the design is ``sobol``.

    Raises:
        ValueError: design points are missing (runs failed or not done), so the indices cannot be computed.
    """
    design = res.sweep["design"]
    cols = ["arm", "metric", "parameter", "tag", "S1", "S1_conf", "ST", "ST_conf"]
    if not design or design["kind"] != "sobol":
        return pd.DataFrame(columns=cols)
    from SALib.analyze import sobol

    final, year = _final(res, year)
    problem = design["problem"]
    rows = []
    for arm, part in final.groupby("arm", sort=False):
        means = part.groupby("point")[list(metrics)].mean()
        if len(means) != design["n_points"]:
            missing = design["n_points"] - len(means)
            raise ValueError(f"arm {arm}: {missing} of {design['n_points']} Sobol design points have no runs")
        for metric in metrics:
            y = means[metric].to_numpy(dtype=float)
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                si = sobol.analyze(
                    problem, y, calc_second_order=design["second_order"], seed=design["seed"] or 0
                )
            for k, name in enumerate(problem["names"]):
                rows.append(
                    {
                        "arm": arm,
                        "metric": metric,
                        "parameter": name,
                        "tag": res.sweep["varied"][name]["tag"],
                        **{key: float(si[key][k]) for key in ("S1", "S1_conf", "ST", "ST_conf")},
                    }
                )
    return pd.DataFrame(rows, columns=cols)


def _fmt(x: Any) -> str:
    if isinstance(x, float | np.floating):
        if np.isnan(x):
            return ""
        return f"{x:,.0f}" if abs(x) >= 100 else f"{x:,.3g}" if x != int(x) else f"{x:,.0f}"
    return str(x).replace("|", "\\|")


def markdown_table(df: pd.DataFrame) -> str:
    """A DataFrame as a Markdown table (numbers rounded for reading)."""
    lines = ["| " + " | ".join(map(str, df.columns)) + " |", "|" + "---|" * len(df.columns)]
    lines += ["| " + " | ".join(_fmt(v) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join(lines)


def report(
    res: SweepResults, effects: pd.DataFrame, levels: pd.DataFrame, indices: pd.DataFrame, year: int
) -> str:
    """The Markdown report tying the tables and figures together (figures linked by file name)."""
    sw, m = res.sweep, res.manifest
    n_done = res.runs["run_id"].nunique()
    git = m["provenance"]["git"]
    text = [
        f"# Sweep comparison: {sw['name']}",
        "",
        sw["description"],
        "",
        f"- Results: `{res.out}`; sweep file `{m['sweep_file']['path']}`; base scenario "
        f"`{sw['base_scenario']['name']}`.",
        f"- Runs: {n_done:,} of {sw['n_runs']:,} done, {len(res.failures)} failed; "
        f"{len(sw['arms'])} arm(s) x "
        f"{sw['n_cases'] // len(sw['arms'])} design point(s) x {sw['run']['replications']} replication(s), "
        f"seeds {sw['run']['seed']} + replication (the same in every arm).",
        f"- Model commit `{git['commit']}`{' (uncommitted changes)' if git['dirty'] else ''}; "
        f"sweep started {m['provenance']['created_utc']}.",
        "",
        "## Varied parameters",
        "",
        markdown_table(pd.DataFrame([{"parameter": k, **v} for k, v in sw["varied"].items()])),
        "",
        f"## Effects against the baseline in {year}",
        "",
    ]
    if effects.empty:
        text += [
            "No arms to compare: this sweep has one arm and a sampled design (see the Sobol indices).",
            "",
        ]
    else:
        table = effects.assign(
            interval_90=[f"{_fmt(a)} to {_fmt(b)}" for a, b in zip(effects.p05, effects.p95, strict=True)]
        )
        text += [
            "Paired differences, arm minus baseline, replication by replication with the same seed "
            "(and design point): median and 90% interval across pairs.",
            "",
            markdown_table(
                table[["arm", "changes", "metric", "n_pairs", "reference_median", "median", "interval_90"]]
            ),
            "",
            "![Lever ranking: median effect with 90% interval](ranking.png)",
            "",
        ]
    text += [
        f"## Outcomes in {year}",
        "",
        markdown_table(levels),
        "",
        "![Mutual workforce by arm](fan.png)",
        "",
    ]
    if not indices.empty:
        text += [
            f"## Sobol indices in {year}",
            "",
            "First order (S1) and total order (ST) with 95% confidence half-widths (SALib, bootstrap).",
            "",
            markdown_table(indices),
            "",
            "![Sobol indices](sobol.png)",
            "",
        ]
    if len(res.failures):
        text += [
            "## Failed runs",
            "",
            markdown_table(res.failures[["run_id", "arm", "replication", "error"]]),
            "",
        ]
    return "\n".join(text)


def write_comparison(
    results: str | Path, out: str | Path | None = None, year: int | None = None
) -> dict[str, Path]:
    """Write the comparison of a sweep's results folder; returns the files written.

    Files: ``effects.csv``, ``outcomes.csv``, ``fan.png``, ``ranking.png`` (if arms are compared),
    ``sobol.csv`` and ``sobol.png`` (Sobol designs), ``report.md``. The folder (default
    ``RESULTS/compare``) is replaced as a whole.
    """
    from sim.experiments.output import staged_dir
    from sim.pictures import sweep_charts as compare_plots

    res = load(results)
    _, year = _final(res, year)
    out = Path(out) if out is not None else Path(results) / "compare"
    effects = paired_effects(res, year)
    levels = outcomes(res, year)
    indices = sobol_indices(res, year)
    with staged_dir(out) as stage:
        files = {
            "effects": stage / "effects.csv",
            "outcomes": stage / "outcomes.csv",
            "fan": stage / "fan.png",
        }
        effects.to_csv(files["effects"], index=False)
        levels.to_csv(files["outcomes"], index=False)
        compare_plots.save(compare_plots.fan_figure(res, year=year), files["fan"])
        if not effects.empty:
            files["ranking"] = stage / "ranking.png"
            compare_plots.save(compare_plots.ranking_figure(effects, year), files["ranking"])
        if not indices.empty:
            files["sobol"], files["sobol_plot"] = stage / "sobol.csv", stage / "sobol.png"
            indices.to_csv(files["sobol"], index=False)
            compare_plots.save(compare_plots.sobol_figure(indices, year), files["sobol_plot"])
        files["report"] = stage / "report.md"
        files["report"].write_text(report(res, effects, levels, indices, year))
    return {k: out / v.name for k, v in files.items()}
