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

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.experiments.design import show
from sim.experiments.metrics import Metric, default_metrics, from_dict
from sim.experiments.store import SweepError, read_design, read_failures, read_manifest, read_runs
from sim.inputs.invoked import program
from sim.model.outcomes import METRICS  # noqa: F401  (the default metrics, re-exported)


@dataclass(frozen=True)
class SweepResults:
    """A sweep's results folder, read.

    Attributes:
        out: the folder.
        manifest: manifest.json.
        runs: national rows (ids, year, metrics), with the case's ``label`` from design.parquet.
        failures: runs that raised.
        design: one row per case.
        metrics: what is compared, by name (the sweep file's [metrics], or the headline columns); each
            is a column of ``runs``.
    """

    out: Path
    manifest: dict[str, Any]
    runs: pd.DataFrame
    failures: pd.DataFrame
    design: pd.DataFrame
    metrics: dict[str, Metric] = field(default_factory=default_metrics)

    @property
    def labels(self) -> dict[str, str]:
        """Each metric's label, by name."""
        return {k: m.label for k, m in self.metrics.items()}

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


def load(out: str | Path, metrics: dict[str, str] | None = None) -> SweepResults:
    """Read a sweep's results folder (the columns its metrics need) and compute the metrics.

    Args:
        out: the sweep's results folder.
        metrics: national columns to compare instead of the sweep's own metrics, with their labels
            (``{"mutual_staff_lg": "mutual staff, local government"}``), each at the compared year.
    """
    out = Path(out)
    manifest = read_manifest(out)
    if not (out / "design.parquet").is_file():
        kind = "a `run` results folder" if "scenario" in manifest else "not a sweep results folder"
        raise SweepError(
            f"{out}: {kind} (no design.parquet); compare needs a folder written by `{program()} sweep`"
        )
    design = read_design(out)
    metrics = (
        from_dict(manifest["sweep"].get("metrics"))
        if metrics is None
        else from_dict({name: {"column": name, "label": label} for name, label in metrics.items()})
    )
    needed = sorted(set().union(*(m.columns for m in metrics.values())))
    columns = ["run_id", "case", "arm_index", "arm", "point", "replication", "seed", "year", *needed]
    runs = read_runs(out, columns=columns)
    if runs.empty:
        raise ValueError(f"{out}: no finished runs to compare")
    runs = runs.merge(design[["case", "label"]], on="case", how="left")
    computed = {name: m.values(runs) for name, m in metrics.items()}
    runs = runs.drop(columns=[c for c in computed if c in runs]).assign(**computed)
    return SweepResults(out, manifest, runs, read_failures(out), design, metrics)


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
    res: SweepResults, year: int | None = None, metrics: list[str] | None = None
) -> pd.DataFrame:
    """Each arm's effect against the baseline arm in ``year``: paired differences, summarised.

    Returns:
        One row per arm and metric: ``arm``, ``reference``, ``changes``, ``metric``, ``n_pairs``,
        ``reference_median`` (the baseline's level), ``median``, ``p05``, ``p95`` and ``mean`` of the
        differences (arm minus baseline, same seed and design point), ``share_above_zero``.
        Empty if the sweep has nothing to compare (see :meth:`SweepResults.grouping`).
    """
    metrics = list(res.metrics) if metrics is None else metrics
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


def outcomes(res: SweepResults, year: int | None = None, metrics: list[str] | None = None) -> pd.DataFrame:
    """Levels in ``year`` by arm (or factorial point): runs, median, 5th and 95th percentiles."""
    metrics = list(res.metrics) if metrics is None else metrics
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
    res: SweepResults, year: int | None = None, metrics: list[str] | None = None
) -> pd.DataFrame:
    """First and total order Sobol indices of each metric in ``year``, per arm, with the N/2 check.

    The output at each design point is the mean over its replications. Indices are NaN where the output
    does not vary. Empty unless the design is ``sobol``. See :func:`sim.experiments.sensitivity.sobol`.

    Raises:
        ValueError: design points are missing (runs failed or not done), so the indices cannot be computed.
    """
    return _sensitivity(res, year, metrics)[0]


def _sensitivity(
    res: SweepResults, year: int | None, metrics: list[str] | None
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(Sobol S1/ST, Sobol S2, Morris) tables; those the design does not give are empty."""
    from sim.experiments import sensitivity

    _, year = _final(res, year)
    metrics = list(res.metrics) if metrics is None else metrics
    first, second = sensitivity.sobol(res, year, metrics)
    return first, second, sensitivity.morris(res, year, metrics)


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
    res: SweepResults,
    effects: pd.DataFrame,
    levels: pd.DataFrame,
    indices: pd.DataFrame,
    year: int,
    pairs: pd.DataFrame | None = None,
    morris: pd.DataFrame | None = None,
) -> str:
    """The Markdown report tying the tables and figures together (figures linked by file name)."""
    sw, m = res.sweep, res.manifest
    n_done = res.runs["run_id"].nunique()
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
        f"- Model: {_model_version(m['provenance'])}; sweep started {m['provenance']['created_utc']}.",
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
            "First order (S1) and total order (ST) with 95% confidence half-widths (SALib, bootstrap). "
            "Convergence: the same indices from the first half of the base samples (N/2), and "
            "`ST_change`, ST at N minus ST at N/2; `converged` when that is within the bootstrap "
            "half-width or 0.05.",
            "",
            markdown_table(indices),
            "",
            "![Sobol indices](sobol.png)",
            "",
        ]
        if not indices.empty and not indices["converged"].all():
            n_not = int((~indices["converged"].astype(bool)).sum())
            text += [f"**{n_not} indices moved more than that from N/2 to N: run more samples.**", ""]
    if pairs is not None and not pairs.empty:
        top = pairs.reindex(pairs["S2"].abs().sort_values(ascending=False).index).head(15)
        text += [
            "### Second-order indices (interactions), largest 15 (all in sobol_s2.csv)",
            "",
            markdown_table(top),
            "",
        ]
    if morris is not None and not morris.empty:
        text += [
            f"## Morris screening in {year}",
            "",
            "mu_star: mean absolute elementary effect (with its 95% half-width); sigma: their spread "
            "(interactions, non-linearity). Parameters with small mu_star can be fixed.",
            "",
            markdown_table(morris.sort_values(["arm", "metric", "mu_star"], ascending=[True, True, False])),
            "",
            "![Morris screening](morris.png)",
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


def headline_drivers(res: SweepResults, indices: pd.DataFrame, year: int) -> pd.DataFrame:
    """The parameters dominating each metric's variance, with their tag, basis and source, N and year."""
    from sim.experiments.anatomy import drivers
    from sim.inputs.params import registry

    design = res.sweep["design"]
    k = design["problem"]["num_vars"]
    table = drivers(indices, {key: spec.source for key, spec in registry().items()})
    table["N"] = design["n_points"] // (2 * k + 2 if design["second_order"] else k + 2)
    table["year"] = year
    return table


def write_comparison(
    results: str | Path, out: str | Path | None = None, year: int | None = None
) -> dict[str, Path]:
    """Write the comparison of a sweep's results folder; returns the files written.

    Files: ``effects.csv``, ``outcomes.csv``, ``fan.png``, ``ranking.png`` (if arms are compared),
    ``sobol.csv``, ``sobol_s2.csv``, ``sobol.png`` and ``headline_drivers.csv`` (Sobol designs),
    ``morris.csv`` and ``morris.png`` (Morris designs),
    ``report.md``. The folder (default
    ``RESULTS/compare``) is replaced as a whole.
    """
    from sim.experiments.output import staged_dir
    from sim.pictures import sweep_charts as compare_plots

    res = load(results)
    _, year = _final(res, year)
    out = Path(out) if out is not None else Path(results) / "compare"
    effects = paired_effects(res, year)
    levels = outcomes(res, year)
    indices, pairs, morris = _sensitivity(res, year, None)
    with staged_dir(out, kind="compare") as stage:
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
            drivers = headline_drivers(res, indices, year)
            files["drivers"] = stage / "headline_drivers.csv"
            drivers.to_csv(files["drivers"], index=False)
        if not pairs.empty:
            files["sobol_s2"] = stage / "sobol_s2.csv"
            pairs.to_csv(files["sobol_s2"], index=False)
        if not morris.empty:
            files["morris"], files["morris_plot"] = stage / "morris.csv", stage / "morris.png"
            morris.to_csv(files["morris"], index=False)
            compare_plots.save(compare_plots.morris_figure(morris, year), files["morris_plot"])
        files["report"] = stage / "report.md"
        text = report(res, effects, levels, indices, year, pairs, morris)
        if not indices.empty:
            from sim.experiments.anatomy import drivers_markdown

            text += drivers_markdown(drivers)
        files["report"].write_text(text)
    return {k: out / v.name for k, v in files.items()}


def _model_version(provenance: dict) -> str:
    """``mutuals-sim 0.1.0, commit `abc...``` as the manifest records it (no commit when installed)."""
    version = (provenance.get("versions") or {}).get("mutuals-sim")
    git = provenance.get("git") or {}
    parts = [f"mutuals-sim {version}" if version else "mutuals-sim (version not recorded)"]
    if git.get("commit"):
        parts.append(f"commit `{git['commit']}`" + (" (uncommitted changes)" if git.get("dirty") else ""))
    else:
        parts.append("installed, not a git checkout")
    return ", ".join(parts)
