"""The model on real English councils: starting state, invariants, limits, effects, reproducibility."""

import numpy as np
import pandas as pd
import pytest

from sim.experiments.run import run_scenario
from sim.model import ASC, LIBRARIES, NAMED_CASES, DivestmentModel, rules
from sim.model.rules import MODES

N_SLOTS = 456 + 2_927 + 936
"""Parts: 152 x 3 of adult social care, 2,927 library points (2,926 of 2010 and the Isles of Scilly's one),
936 leisure centres (one per 60,000 residents, at least one a council)."""

SEEDS = range(10)


def final(scenario, column="n_mutuals", seeds=SEEDS):
    return np.array(
        [
            DivestmentModel(scenario, seed=s, record_councils=False).run().national()[column].iloc[-1]
            for s in seeds
        ]
    )


# ---------------------------------------------------------------- starting state, 2014
def test_2014_row_matches_calibration(baseline_results):
    first = baseline_results.national.query("year == 2014")
    assert (first["n_mutuals"] == 100).all()
    assert (first["n_mutuals_lg"] == 50).all(), "about half from local government (source article)"
    assert (first["mutual_staff_lg"] > 0).all() and (first["mutual_staff_outside"] > 0).all()
    # The outside sector is its own stock, the same in every replication, not a residual of the random
    # placement of local-government mutuals; so the national 2014 figures are right on average.
    assert first["mutual_staff_outside"].nunique() == 1 and first["mutual_spend_outside_gbp_m"].nunique() == 1
    assert first["mutual_staff_lg"].nunique() > 1
    assert first["mutual_staff"].mean() == pytest.approx(35_000, rel=0.05)
    assert first["mutual_spend_gbp_m"].mean() == pytest.approx(1_500, rel=0.05)


@pytest.mark.parametrize("case", NAMED_CASES, ids=[c[3] for c in NAMED_CASES])
def test_named_cases_sit_at_their_councils(baseline_results, case):
    code, service, mode, _, parts = case
    c = baseline_results.councils
    service_name = ("adult_social_care", "libraries", "leisure")[service]
    rows = c[(c.year == 2014) & (c.ons_code == code) & (c.service == service_name)]
    if parts is not None:
        rows = rows[rows.part.isin(parts)]
    n_slots = len(parts) if parts else len(DivestmentModel(seed=0).slots_of(code, service))  # every point
    assert len(rows) == baseline_results.scenario.replications * n_slots
    assert (rows["mode"] == MODES[mode]).all()
    assert rows.groupby("replication").provider_id.nunique().eq(1).all(), "one body runs all its parts"


def test_leeds_aspire_is_in_the_pipeline():
    m = DivestmentModel(seed=0)
    j = m.slot_of("E08000035", ASC, "learning_disability")
    assert m.pending.shape == (1, m.slots.n)  # one replication
    assert m.pending[0, j] == rules.MUTUAL and m.pending_live[0, j] == 2015
    pipeline = np.flatnonzero((m.pending[0] >= 0) & m.is_head)  # a library or leisure service counts once
    assert len(pipeline) == 1 + m.p["init.n_lg_pipeline_2014"]
    assert set(m.pending_live[0, pipeline]) <= {2015, 2016}
    assert (m.mode[0, pipeline] == rules.IN_HOUSE).all()


def test_about_30_percent_of_leisure_starts_with_a_legacy_trust(baseline_results):
    c = baseline_results.councils.query("year == 2014 and service == 'leisure'")
    share = (c["mode"] == "legacy_trust").mean()
    assert 0.24 < share < 0.36
    assert "legacy_trust" not in set(baseline_results.councils.query("service != 'leisure'")["mode"])


def test_random_placement_depends_on_seed():
    a, b = DivestmentModel(seed=1), DivestmentModel(seed=2)
    assert not np.array_equal(a.mode, b.mode)
    for code, service, mode, _, parts in NAMED_CASES:
        part = parts[0] if parts else None
        assert a.mode[0, a.slot_of(code, service, part)] == b.mode[0, b.slot_of(code, service, part)] == mode


def test_councils_are_mesa_agents():
    m = DivestmentModel(seed=0)
    assert len(m.agents) == 353
    suffolk = next(a for a in m.agents if a.ons_code == "E10000029")
    assert suffolk.modes()["libraries/branch_libraries/1"] == "mutual"
    assert suffolk.modes()["libraries/main_libraries/0"] == "mutual"
    district = next(a for a in m.agents if a.ons_code == "E07000223")  # Adur: 64,000 residents, one centre
    assert set(district.modes()) == {"leisure/leisure_centres/0"}


# ---------------------------------------------------------------- invariants on real runs
def test_one_mode_per_service_per_year(baseline_results):
    c = baseline_results.councils
    assert not c.duplicated(["replication", "year", "ons_code", "service", "part", "point"]).any()
    assert c["mode"].isin(MODES).all()
    per_year = c.groupby(["replication", "year"]).size()
    assert (per_year == N_SLOTS).all()


def test_no_negative_counts_or_totals(baseline_results):
    n = baseline_results.national
    numeric = n.select_dtypes("number")
    assert (numeric >= 0).all().all()
    c = baseline_results.councils
    assert (c["staff"] >= 0).all() and (c["spend_gbp_m"] >= 0).all()


def test_only_allowed_transitions(baseline_results):
    c = baseline_results.councils.sort_values(["replication", "ons_code", "service", "part", "point", "year"])
    prev = c.groupby(["replication", "ons_code", "service", "part", "point"], observed=True)["mode"].shift()
    changed = c[prev.notna() & (prev != c["mode"])]
    pairs = set(zip(prev[changed.index].map(MODES.index), changed["mode"].map(MODES.index), strict=True))
    assert pairs, "the baseline makes some transitions"
    assert pairs <= rules.ALLOWED_TRANSITIONS
    d = baseline_results.decisions
    moved = d[d.reason.isin(["live", "failure", "contract_end", "retender"]) & (d.from_mode != d.to_mode)]
    moved_pairs = set(zip(moved.from_mode.map(MODES.index), moved.to_mode.map(MODES.index), strict=True))
    assert moved_pairs <= rules.ALLOWED_TRANSITIONS


def test_mutual_totals_add_up(baseline_results):
    n = baseline_results.national
    np.testing.assert_allclose(n.n_mutuals, n.n_mutuals_lg + n.n_mutuals_outside)
    np.testing.assert_allclose(n.mutual_staff, n.mutual_staff_lg + n.mutual_staff_outside)
    np.testing.assert_allclose(n.mutual_staff_lg, n.staff_mutual + n.staff_joint_mutual)
    c = baseline_results.councils
    lg = c[c["mode"].isin(["mutual", "joint_mutual"])].groupby(["replication", "year"])["staff"].sum()
    merged = n.set_index(["replication", "year"])["mutual_staff_lg"]
    np.testing.assert_allclose(merged.loc[lg.index], lg)
    counts = sum(n[f"n_{s}_{m}"] for s in ("adult_social_care", "libraries", "leisure") for m in MODES)
    assert (counts == N_SLOTS).all()


def test_staff_and_spend_are_conserved_in_every_transfer(baseline, monkeypatch):
    """Every transfer keeps the books: spend after plus the saving credited equals spend before, staff
    move in proportion to spend, and no part is lost."""
    from sim.model.stages import providers, transitions

    transfers = []

    def audited(function):
        def wrapper(m, *args, **kwargs):
            ratio = np.divide(m.staff, m.spend, out=np.zeros_like(m.staff), where=m.spend > 0)
            before = (m.spend.sum() + m.cum_savings.sum(), (m.mode >= 0).sum())
            function(m, *args, **kwargs)
            after = (m.spend.sum() + m.cum_savings.sum(), (m.mode >= 0).sum())
            np.testing.assert_allclose(before, after, rtol=0, atol=1e-9)
            now = np.divide(m.staff, m.spend, out=np.zeros_like(m.staff), where=m.spend > 0)
            np.testing.assert_allclose(now[m.spend > 0], ratio[m.spend > 0], rtol=1e-12)
            transfers.append(1)

        return wrapper

    monkeypatch.setattr(transitions, "go_live", audited(transitions.go_live))
    monkeypatch.setattr(providers, "return_in_house", audited(providers.return_in_house))
    high_churn = baseline.with_changes(
        {"mutual.fail_rate_per_year": 0.2, "contract.p_return_in_house": 0.5, "contract.length_years": 2}
    )
    m = DivestmentModel(high_churn, seed=3).run()
    d = m.decisions_frame()
    assert len(transfers) > 15
    assert d.reason.isin(["live", "failure", "contract_end"]).sum() > 50
    assert {"live", "failure", "contract_end"} <= set(d.reason)


def test_transfer_moves_staff_with_the_service_less_its_saving():
    m = DivestmentModel(seed=0)
    saving = m.p["appraisal.saving_mutual"]
    j = m.slot_of("E10000020", LIBRARIES)
    staff, spend, saved = m.staff[0, j], m.spend[0, j], m.cum_savings[0]
    m.go_live(np.array([0]), np.array([j]), np.array([rules.MUTUAL]), 2015, "live", join=False)
    assert m.mode[0, j] == rules.MUTUAL and m.provider[0, j] >= 0
    assert m.spend[0, j] == pytest.approx(spend * (1 - saving)) and m.staff[0, j] == pytest.approx(
        staff * (1 - saving)
    )
    assert m.cum_savings[0] - saved == pytest.approx(spend * saving)
    assert m.contract_value[0, j] == pytest.approx(m.spend[0, j])
    staff, spend = m.staff[0, j], m.spend[0, j]
    m.return_in_house(np.array([0]), np.array([j]), 2016, "failure")
    assert m.mode[0, j] == rules.IN_HOUSE and m.staff[0, j] == staff and m.spend[0, j] == spend
    assert m.provider[0, j] == -1


# ---------------------------------------------------------------- limiting cases
def test_no_pressure_and_no_proposals_means_no_divestment(baseline):
    calm = baseline.with_changes({"funding.pressure_scale": 0.0, "proposals.rate_per_year": 0.0})
    for seed in range(5):
        m = DivestmentModel(calm, seed=seed).run()
        d = m.decisions_frame()
        assert not d.reason.isin(["review", "proposal"]).any()
        key = d.ons_code + "/" + d.service + "/" + d.part
        went_live = set(key[d.reason == "live"])
        assert went_live <= set(key[d.reason == "pipeline"]), (
            "only the 2014 pipeline (Aspire and others) completes"
        )
        assert "E08000035/adult_social_care/learning_disability" in set(key[d.reason == "pipeline"])
        assert m.national()["new_divestments"].sum() == 0


@pytest.mark.parametrize(
    "mode_key", ["policy.allow_mutual", "policy.allow_latc", "policy.allow_joint", "policy.allow_reboot"]
)
def test_a_mode_switched_off_is_never_chosen(baseline, mode_key):
    mode = {
        "policy.allow_mutual": "mutual",
        "policy.allow_latc": "latc",
        "policy.allow_joint": "joint_mutual",
        "policy.allow_reboot": "rebooted",
    }[mode_key]
    scenario = baseline.with_changes({mode_key: False})
    chosen = pd.concat([DivestmentModel(scenario, seed=s).run().decisions_frame() for s in range(4)])
    appraisals = chosen[chosen.reason.isin(["review", "proposal"])]
    assert len(appraisals) > 50
    assert not (appraisals.to_mode == mode).any()


def test_with_everything_allowed_every_option_is_chosen_somewhere(baseline_results):
    d = baseline_results.decisions
    chosen = set(d[d.reason.isin(["review", "proposal"])].to_mode)
    assert {"in_house", "rebooted", "latc", "mutual", "joint_mutual"} <= chosen


# ---------------------------------------------------------------- direction of effects (common seeds)
def test_more_support_never_fewer_mutuals(baseline):
    levels = [0.0, 5.0, 20.0]
    means = [final(baseline.with_changes({"support.budget_gbp_m_per_year": b})).mean() for b in levels]
    assert means[0] <= means[1] <= means[2]
    assert means[0] < means[2]


def test_support_ending_after_2015_lowers_mutual_staff(baseline):
    ended = baseline.with_changes({"support.end_year": 2015})
    assert final(ended, "mutual_staff").mean() < final(baseline, "mutual_staff").mean()


def test_higher_high_jump_means_fewer_lg_mutuals(baseline):
    low = final(baseline.with_changes({"appraisal.high_jump": 0.5}), "n_mutuals_lg")
    high = final(baseline.with_changes({"appraisal.high_jump": 3.0}), "n_mutuals_lg")
    assert high.mean() < low.mean()


def council_parts(scenario, seeds=SEEDS):
    """Service parts still run as they were or re-booted in the end year, per seed."""
    modes = ("in_house", "rebooted")
    return sum(
        final(scenario, f"n_{s}_{m}", seeds)
        for s in ("adult_social_care", "libraries", "leisure")
        for m in modes
    )


def test_budget_pressure_drives_change(baseline):
    """Deeper cuts: fewer parts left as they were (more divested, cut or handed on)."""
    calm = council_parts(baseline.with_changes({"funding.pressure_scale": 0.2}))
    harsh = council_parts(baseline.with_changes({"funding.pressure_scale": 2.0}))
    assert harsh.mean() < calm.mean()


def test_simplification_raises_lg_mutuals(baseline):
    simple = final(baseline.with_changes({"policy.simplification": 1.0}), "n_mutuals_lg")
    assert simple.mean() > final(baseline, "n_mutuals_lg").mean()


# ---------------------------------------------------------------- reproducibility
def test_same_seed_identical_results(baseline):
    a = run_scenario(baseline.with_changes({}, replications=2))
    b = run_scenario(baseline.with_changes({}, replications=2))
    pd.testing.assert_frame_equal(a.national, b.national)
    pd.testing.assert_frame_equal(a.councils, b.councils)
    pd.testing.assert_frame_equal(a.decisions, b.decisions)


def test_different_seeds_differ(baseline):
    a = DivestmentModel(baseline, seed=1).run().national()
    b = DivestmentModel(baseline, seed=2).run().national()
    assert not a.equals(b)


def test_recording_councils_does_not_change_the_run(baseline):
    a = DivestmentModel(baseline, seed=5, record_councils=True).run().national()
    b = DivestmentModel(baseline, seed=5, record_councils=False).run().national()
    pd.testing.assert_frame_equal(a, b)


# ---------------------------------------------------------------- time-true origination (finite pools)
def test_exhausted_pools_give_no_new_spin_outs(baseline):
    """No ready staff teams and no candidates outside local government: no proposals, no outside births."""
    dry = baseline.with_changes(
        {
            "proposals.ready_share_2014": 0.0,
            "proposals.replenish_per_year": 0.0,
            "outside.cohort_2014": 0,
            "outside.central_pool": 0,
            "outside.fail_rate_per_year": 0.0,
            "outside.p_lose_retender": 0.0,
            "outside.p_merge_per_year": 0.0,
        }
    )
    m = DivestmentModel(dry, seed=4).run()
    d = m.decisions_frame()
    assert not (d.reason == "proposal").any()
    n = m.national()
    assert (n.n_mutuals_outside.diff().dropna() == 0).all()


def test_the_pool_of_ready_teams_runs_down(baseline):
    """With no replenishment, proposals fall year on year as the readiest teams go first."""
    sc = baseline.with_changes({"proposals.replenish_per_year": 0.0}, replications=8)
    m = DivestmentModel(sc, seeds=sc.seeds()).run()
    d = m.decisions_frame()
    per_year = d[d.reason == "proposal"].groupby("year").size()
    assert per_year.iloc[0] > per_year.iloc[-1]
    assert (m.ready.sum(axis=1) < m.slots.n).all()


def test_outside_spin_outs_slow_as_the_cohort_depletes(baseline):
    sc = baseline.with_changes({"outside.central_programme": False}, replications=16)
    n = DivestmentModel(sc, seeds=sc.seeds()).run().national()
    births = n.groupby("year").new_outside_born.mean().iloc[1:]  # the flows of 2014 onwards
    assert births.iloc[0] > births.iloc[-1] >= 0


def test_support_never_funded_means_fewer_mutuals(baseline):
    never = baseline.with_changes({"support.budget_gbp_m_per_year": 0.0})
    assert final(never, "n_mutuals").mean() < final(baseline, "n_mutuals").mean()


def test_a_later_programme_adds_mutuals_only_from_its_first_year(baseline):
    later = baseline.with_changes(
        {"support.extra_budget_gbp_m_per_year": 20.0, "support.extra_from_year": 2018}
    )
    a = DivestmentModel(baseline, seed=11).run().national()
    b = DivestmentModel(later, seed=11).run().national()
    early = a.year <= 2018  # decisions of 2018 are recorded from 2019
    pd.testing.assert_frame_equal(a[early], b[early])
    assert b.n_mutuals.iloc[-1] >= a.n_mutuals.iloc[-1]


def test_the_shipped_limiting_scenario_adds_no_lg_mutuals_beyond_the_2014_pipeline():
    from pathlib import Path

    from sim.inputs.scenario import load_scenario

    sc = load_scenario(Path(__file__).resolve().parents[1] / "scenarios" / "no_pressure_no_proposals.toml")
    m = DivestmentModel(sc, seeds=sc.seeds()).run()
    n = m.national()
    pipeline = m.decisions_frame()
    pipeline = pipeline[pipeline.reason == "pipeline"].groupby("batch_index").size()
    start = n[n.year == 2014].set_index("batch_index").n_mutuals_lg
    most = n.groupby("batch_index").n_mutuals_lg.max()
    assert (most <= start + pipeline).all()
    assert n.new_divestments.sum() == 0 and n.new_mutual_decisions.sum() == 0


def test_councils_keep_cut_hand_over_outsource_and_divest_part_by_part(baseline):
    d = DivestmentModel(baseline, seeds=range(4)).run().decisions_frame()
    appraised = d[d.reason.isin(["review", "proposal", "branch"])]
    kept = appraised.from_mode == appraised.to_mode
    assert kept.any(), "keeping (and cutting within) is chosen"
    chosen = set(appraised.to_mode[~kept])
    assert {"reduced", "community", "outsourced", "latc", "mutual", "joint_mutual"} <= chosen
    assert appraised.part.nunique() == 6, "decisions fall on every kind of part"
    branch = d[d.reason == "branch"]
    assert (branch.point > 0).all() and set(branch.part) <= {"branch_libraries", "leisure_centres"}
    assert branch.groupby(["batch_index", "year", "ons_code"]).size().max() > 1, "several branches at once"
    split = appraised.groupby(["batch_index", "ons_code", "service"]).to_mode.nunique()
    assert (split > 1).any(), "some councils take different routes for different parts of one service"


def test_the_2014_council_workforce_is_counted_once(baseline):
    """Council-run adult social care parts hold all of HSCIC's council staff; spun-out staff are extra."""
    p = baseline.params
    shares = sum(
        p[f"services.asc_share_{k}"] for k in ("day_services", "learning_disability", "home_care_reablement")
    )
    m = DivestmentModel(baseline, seeds=[1, 2, 3])
    n = m.national()
    first = n[n.year == 2014]
    np.testing.assert_allclose(first.council_staff_adult_social_care, p["services.asc_staff_2014"] * shares)
    asc = m.slots.service == ASC
    spun_out = (m.staff * (rules.IS_DIVESTED[m.mode] & asc)).sum(axis=1)
    assert (spun_out > 0).all()
    np.testing.assert_allclose(m.staff[:, asc].sum(axis=1), p["services.asc_staff_2014"] * shares + spun_out)


def test_mutual_turnover_is_the_contracts_plus_capped_trading(baseline_results):
    n = baseline_results.national
    cap = 1 + baseline_results.scenario.params["contract.max_trading_share"]
    assert (n.mutual_contracts_lg_gbp_m <= n.mutual_spend_lg_gbp_m + 1e-9).all()
    assert (n.mutual_spend_lg_gbp_m <= n.mutual_contracts_lg_gbp_m * cap + 1e-9).all()
    first = n[n.year == 2014]
    np.testing.assert_allclose(first.mutual_contracts_lg_gbp_m, first.mutual_spend_lg_gbp_m)


def test_the_council_table_can_be_read_mid_run(baseline):
    m = DivestmentModel(baseline, seed=1)
    m.step()
    c = m.councils_frame()
    assert sorted(c.year.unique()) == [2014, 2015] and len(c) == 2 * m.slots.n
