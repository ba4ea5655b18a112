"""Calibration targets as data: what is observed, when, how well, and the model statistic it is set against.

``sim/data/targets.csv`` holds one row per target (format in ``docs/calibration.md``)::

    name,statistic,window_from,window_to,year,value,kind,scale,tolerance,role,pattern,source

``statistic`` names a model statistic (:data:`STATISTICS`, or ``level:<col>``, ``change:<col>`` on a
``national.csv`` column) computed over the simulated financial years ``window_from`` to ``window_to``;
``year`` dates the observation (never after 2014); ``kind`` is ``equal``, ``upper`` or ``lower``; the
error model is ``scale`` (``log``: log(1 + x), or ``absolute``) with ``tolerance`` on that scale, to which
the inference adds a model-discrepancy term in quadrature (:func:`z_scores`). A target whose window
precedes the run's start year, ends after its last simulated year, or is the starting state itself (set
by construction, not by the model's mechanisms) is not computable and is skipped with a note
(:func:`split_computable`), so a run starting in 2010 picks up the 2010-2013 rows without a change here.

Longer than 300 lines because the file format, its checks and the computation of every statistic stay
together: a reader checking a target against what the model computes for it reads one module.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sim.inputs.keys import suggest
from sim.inputs.scenario import START_YEAR, ScenarioError

SHIPPED = Path(__file__).resolve().parents[1] / "data" / "targets.csv"
COLUMNS = (
    "name",
    "statistic",
    "window_from",
    "window_to",
    "year",
    "value",
    "kind",
    "scale",
    "tolerance",
    "role",
    "pattern",
    "source",
)
KINDS = ("equal", "upper", "lower")
SCALES = ("log", "absolute")
ROLES = ("fit", "holdout")
LAST_KNOWN_YEAR = 2014
"""Only figures known by 2014 are targets (CALIBRATION.md)."""
APPRAISAL_REASONS = ("review", "proposal")
MUTUAL_MODES = ("mutual", "joint_mutual")
DIVESTED_MODES = ("community", "outsourced", "shared", "latc", "trust", "mutual", "joint_mutual")
STATISTICS = {
    "mutual_decisions_per_year": "services decided (review or staff proposal) to become a mutual or joint "
    "mutual, per year of the window",
    "appraisals_per_year": "options appraisals (budget reviews plus staff proposals), per year of the window",
    "asc_staff_divested_per_year": "adult social care staff in parts decided to leave the council by any "
    "route, per year of the window",
    "library_points_closed_per_year": "library service points closed, per year of the window",
    "leisure_trust_share": "share of leisure service points run by a trust (formed before 2010 or "
    "since) or a staff-led mutual, at the start of window_from",
    "lg_share_of_mutuals": "local-government mutuals over all mutuals, at the start of window_from",
    "council_spend_change_asc": "mean over councils of the log change of a council's adult social care "
    "spend from the start of window_from to the start of the year after window_to (a 2010 start)",
    "council_spend_change_culture": "the same for libraries and leisure together (cultural and related "
    "services)",
    "library_spend_change": "yearly relative change of all library spend (council-run and divested parts), "
    "from the start of window_from to the start of the year after window_to",
}
"""Statistics from the decision log, the national table and the council history; ``level:``, ``change:``
and ``total:`` are generic."""
LOG_STATISTICS = ("mutual_decisions_per_year", "appraisals_per_year", "asc_staff_divested_per_year")
GENERIC = {
    "level": "the national.csv column at the start of window_from (window_from = window_to)",
    "change": "yearly relative change of the national.csv column from the start of window_from to the "
    "start of the year after window_to (geometric mean)",
    "total": "sum of a flow column (new_*) of national.csv over the financial years window_from to window_to",
}
LEISURE_TRUST_MODES = ("legacy_trust", "trust", "mutual", "joint_mutual")
"""Leisure run by a trust: trusts formed before 2010, trusts since, and staff-led leisure mutuals (Sporta
counts all of them; about a third of trusts are mutuals, CALIBRATION.md)."""
COUNCIL_SPEND = {"council_spend_change_asc": "adult_social_care", "council_spend_change_culture": "culture"}
HISTORY_STATISTICS = (*COUNCIL_SPEND, "library_spend_change")
"""Statistics from the council history (the model must record it)."""


@dataclass(frozen=True)
class Target:
    """One row of the targets file (see the module docstring)."""

    name: str
    statistic: str
    window_from: int
    window_to: int
    year: int
    value: float
    kind: str
    scale: str
    tolerance: float
    role: str
    pattern: str
    source: str

    @property
    def needs_log(self) -> bool:
        """Whether the statistic is computed from the decision log (the model must record it)."""
        return self.statistic in LOG_STATISTICS

    @property
    def needs_councils(self) -> bool:
        """Whether the model must record its council history (the log, or each council's spend)."""
        return self.needs_log or self.statistic in HISTORY_STATISTICS

    def transform(self, x):
        """The statistic on the scale of the error model."""
        return np.log1p(x) if self.scale == "log" else np.asarray(x, dtype=float)


def _columns() -> tuple[str, ...]:
    from sim.evidence.observed import measures

    return measures()


def load_targets(path: str | Path = SHIPPED) -> tuple[Target, ...]:
    """Read and check a targets file; every problem at once, each naming the file, line and column.

    Raises:
        ScenarioError: the file is missing or any row is malformed.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError([f"{path}: cannot read the targets file: {exc.strerror or exc}"]) from None
    reader = csv.DictReader(text.splitlines())
    problems: list[str] = []
    missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise ScenarioError([f"{path}: line 1: missing column(s) {missing}; required: {list(COLUMNS)}"])
    out, names = [], set()
    for line, row in enumerate(reader, start=2):
        where = f"{path}: line {line}"
        target = _parse(row, where, problems)
        if target is None:
            continue
        if target.name in names:
            problems.append(f"{where}: column name: {target.name!r} appears more than once")
        names.add(target.name)
        out.append(target)
    if problems:
        raise ScenarioError(problems)
    return tuple(out)


def _parse(row: dict[str, str], where: str, problems: list[str]) -> Target | None:
    n = len(problems)
    values: dict = {c: (row.get(c) or "").strip() for c in COLUMNS}
    for c in ("window_from", "window_to", "year"):
        try:
            values[c] = int(values[c])
        except ValueError:
            problems.append(f"{where}: column {c}: {values[c]!r} is not a year")
    for c in ("value", "tolerance"):
        try:
            values[c] = float(values[c])
            if not math.isfinite(values[c]):
                raise ValueError
        except ValueError:
            problems.append(f"{where}: column {c}: {values[c]!r} is not a finite number")
    for c, allowed in (("kind", KINDS), ("scale", SCALES), ("role", ROLES)):
        if values[c] not in allowed:
            problems.append(
                f"{where}: column {c}: {values[c]!r}{suggest(values[c], allowed)}; allowed: {allowed}"
            )
    stat = values["statistic"]
    prefix, _, column = stat.partition(":")
    if stat not in STATISTICS and not (prefix in GENERIC and column in _columns()):
        hint = suggest(column, _columns()) if prefix in GENERIC else suggest(stat, tuple(STATISTICS))
        problems.append(
            f"{where}: column statistic: {stat!r} is not a statistic{hint}; allowed: {sorted(STATISTICS)} "
            "or level:<column>, change:<column>, total:<new_ column> of national.csv"
        )
    if not values["name"] or not values["source"]:
        problems.append(f"{where}: columns name and source must not be empty")
    if len(problems) > n:
        return None
    if values["year"] > LAST_KNOWN_YEAR:
        problems.append(
            f"{where}: column year: {values['year']} is after {LAST_KNOWN_YEAR}: only figures "
            "known by 2014 are targets"
        )
    if values["window_to"] < values["window_from"]:
        problems.append(f"{where}: column window_to: before window_from")
    if values["tolerance"] <= 0:
        problems.append(f"{where}: column tolerance: must be positive")
    if (prefix == "level" or stat in LEVEL_STATISTICS) and values["window_to"] != values["window_from"]:
        problems.append(f"{where}: a level statistic is of one year: window_to must equal window_from")
    if prefix == "total" and not column.startswith("new_"):
        problems.append(f"{where}: a total: statistic sums a flow: its column must be a new_ column")
    if values["scale"] == "log" and values["value"] <= -1:
        problems.append(f"{where}: column value: a log-scale target must be above -1")
    return None if len(problems) > n else Target(**values)


def split_computable(
    targets: tuple[Target, ...], start_year: int, end_year: int
) -> tuple[tuple[Target, ...], dict[str, str]]:
    """The targets a run from ``start_year`` to ``end_year`` can compute, and a note for each skipped.

    A window's years are financial years simulated: a flow in year y is known at the start of y + 1, so
    the window must lie within ``start_year .. end_year - 1``; a ``level:`` at ``start_year`` is the
    starting state (set by construction), not an outcome of the model.
    """
    ok, skipped = [], {}
    for t in targets:
        if t.window_from < start_year:
            skipped[t.name] = (
                f"window {t.window_from}-{t.window_to} precedes the run's start year {start_year}"
            )
        elif is_level(t) and t.window_from == start_year:
            skipped[t.name] = (
                f"the starting state of {start_year}, set by construction (a check, not a target)"
            )
        elif t.window_to > end_year - (0 if is_level(t) else 1):
            skipped[t.name] = (
                f"window {t.window_from}-{t.window_to} ends after the run's last year {end_year}"
            )
        else:
            ok.append(t)
    return tuple(ok), skipped


LEVEL_STATISTICS = ("leisure_trust_share", "lg_share_of_mutuals")


def is_level(t: Target) -> bool:
    """Whether a target is a state at the start of one year (not a flow or a change over a window)."""
    return t.statistic.startswith("level:") or t.statistic in LEVEL_STATISTICS


def statistics(model, targets: tuple[Target, ...]) -> dict[str, np.ndarray]:
    """Each target's statistic in each replication of a model that has run: name -> (R,) array."""
    columns = model.national_columns()
    years = list(np.asarray(columns["year"])[0])
    R = model.n_batch
    log = model.decisions_frame() if any(t.needs_log for t in targets) else None
    if log is not None:
        index = log["batch_index"].to_numpy() if "batch_index" in log else np.zeros(len(log), dtype=int)
    out = {}
    for t in targets:
        n_years = t.window_to - t.window_from + 1
        row = years.index(t.window_from)
        prefix, _, col = t.statistic.partition(":")
        if prefix == "level":
            value = columns[col][:, row].astype(float)
        elif prefix == "change":
            a, b = columns[col][:, row], columns[col][:, row + n_years]
            value = (b / a) ** (1.0 / n_years) - 1.0
        elif prefix == "total":  # the row of year y holds the flows of year y - 1
            value = columns[col][:, row + 1 : row + 1 + n_years].sum(axis=1).astype(float)
        elif t.statistic == "leisure_trust_share":
            units = {k: v for k, v in columns.items() if k.startswith("units_leisure_")}
            trust = sum(units[f"units_leisure_{mode}"] for mode in LEISURE_TRUST_MODES)
            value = trust[:, row] / np.maximum(sum(units.values())[:, row], 1e-12)
        elif t.statistic == "lg_share_of_mutuals":
            value = columns["n_mutuals_lg"][:, row] / np.maximum(columns["n_mutuals"][:, row], 1)
        elif t.statistic == "library_spend_change":
            from sim.evidence.spend_pattern import service_spend
            from sim.model.slots import LIBRARIES

            a, b = (service_spend(model, LIBRARIES, y) for y in (t.window_from, t.window_to + 1))
            value = (b / a) ** (1.0 / n_years) - 1.0
        elif t.statistic in COUNCIL_SPEND:
            from sim.evidence.spend_pattern import council_spend_change

            value = council_spend_change(model, COUNCIL_SPEND[t.statistic], t.window_from, t.window_to + 1)
        elif t.statistic == "library_points_closed_per_year":
            points = sum(v for k, v in columns.items() if k.startswith("units_libraries_"))
            value = (points[:, row] - points[:, row + n_years]) / n_years
        else:
            in_window = log["year"].between(t.window_from, t.window_to) & log["reason"].isin(
                APPRAISAL_REASONS
            )
            weights = None
            if t.statistic == "mutual_decisions_per_year":
                in_window &= log["to_mode"].isin(MUTUAL_MODES)
            elif t.statistic == "asc_staff_divested_per_year":
                in_window &= (log["service"] == "adult_social_care") & log["to_mode"].isin(DIVESTED_MODES)
                weights = log["staff"].to_numpy()[in_window.to_numpy()]
            counts = np.bincount(index[in_window.to_numpy()], weights=weights, minlength=R)
            value = counts / n_years
        out[t.name] = np.asarray(value, dtype=float)
    return out


def z_scores(stats: dict[str, float], targets: tuple[Target, ...], discrepancy: float) -> np.ndarray:
    """Each target's error in units of its tolerance plus model discrepancy, added in quadrature.

    z = (T(s) - T(y)) / sqrt(tolerance² + d²), with T the target's scale; d = ``discrepancy`` on the log
    scale, and ``discrepancy × |y|`` on the absolute scale (a relative model error). An ``upper`` target
    counts only when exceeded, a ``lower`` one only when undershot.
    """
    z = np.empty(len(targets))
    for i, t in enumerate(targets):
        d = discrepancy if t.scale == "log" else discrepancy * abs(t.value)
        z[i] = (float(t.transform(stats[t.name])) - float(t.transform(t.value))) / math.hypot(t.tolerance, d)
        if t.kind == "upper":
            z[i] = max(z[i], 0.0)
        elif t.kind == "lower":
            z[i] = min(z[i], 0.0)
    return z


def distance(stats: dict[str, float], targets: tuple[Target, ...], discrepancy: float) -> float:
    """Root mean square of :func:`z_scores`: 1 is every target off by about its scaled tolerance."""
    z = z_scores(stats, targets, discrepancy)
    return float(np.sqrt(np.mean(z * z))) if len(z) else 0.0


def run_start(scenario) -> int:
    """The scenario's first simulated year (``[run] start_year`` once the model has it, else 2014)."""
    return int(getattr(scenario, "start_year", START_YEAR))
