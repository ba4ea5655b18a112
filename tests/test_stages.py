"""Each stage of the yearly loop on its own: what it reads, what it changes, and its limiting cases."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from sim.model import DivestmentModel, loop, rules
from sim.model.draws import N_DRAW_ROWS
from sim.model.loop import STAGES, Year
from sim.model.stages import appraisal, outside, pressure, providers, record, review, transitions
from sim.model.streams import Streams


def _year(m: DivestmentModel) -> Year:
    return Year(y=m.year, col=m.year - 2011)


def test_the_loop_runs_every_stage_once_in_order(monkeypatch, baseline):
    m = DivestmentModel(baseline, seed=1)
    called = []

    def spy(function):
        def run(model, year):
            called.append((function.__name__, year.y))
            function(model, year)

        return run

    spies = tuple(spy(f) for f in STAGES)
    monkeypatch.setattr(loop, "STAGES", spies)
    m.step()
    assert [y for _, y in called] == [2014] * len(STAGES) and m.year == 2015
    assert [name for name, _ in called] == [
        "assess",
        "select",
        "appraise_and_decide",
        "transfer",
        "grow_or_fail",
        "step",
        "record",
    ]


def test_pressure_draws_the_years_block_first_from_its_stream(baseline):
    m = DivestmentModel(baseline, seeds=[3, 4])
    year = _year(m)
    pressure.assess(m, year)
    for r, seed in enumerate([3, 4]):
        words = Streams(seed).generator("year", 2014).bit_generator.random_raw(m.slots.n)
        np.testing.assert_array_equal(year.u.words[r], words)
    assert year.u.block().shape == (2, N_DRAW_ROWS, m.slots.n)
    np.testing.assert_array_equal(year.pressure, m.pressure_path[m.slots.council, year.col])


def _reviewed(scenario, seed=0):
    """A model and its first year after the pressure and review stages."""
    m = DivestmentModel(scenario, seed=seed)
    year = _year(m)
    pressure.assess(m, year)
    review.select(m, year)
    return m, year


def test_review_with_no_rates_selects_nothing(baseline):
    sc = baseline.with_changes({"review.rate_per_pressure": 0.0, "proposals.rate_per_year": 0.0})
    m, year = _reviewed(sc)
    assert len(year.reviewed[1]) == 0


def test_review_never_selects_a_service_with_a_pending_transition(baseline):
    sc = baseline.with_changes({"review.rate_per_pressure": 5.0, "proposals.rate_per_year": 0.5})
    m, year = _reviewed(sc)
    r, j = year.reviewed
    assert len(j) > 0 and (m.pending[r, j] < 0).all()
    assert rules.IS_REVIEWABLE[m.mode[r, j]].all()


@pytest.mark.parametrize("y, places", [(2015, True), (2016, False)], ids=["programme", "after its end"])
def test_support_places_exist_only_while_the_programme_runs(baseline, y, places):
    p = baseline.with_changes({"support.end_year": 2015}).params
    assert (appraisal.support_capacity(p, y) > 0) == places


def test_appraisal_with_every_option_switched_off_keeps_everything(baseline):
    options = ("reboot", "reduce", "community", "outsource", "share", "latc", "trust", "mutual", "joint")
    off = {f"policy.allow_{o}": False for o in options}
    m, year = _reviewed(baseline.with_changes({**off, "review.rate_per_pressure": 5.0}), seed=2)
    before = m.pending.copy()
    appraisal.appraise_and_decide(m, year)
    assert len(year.reviewed[1]) > 0
    np.testing.assert_array_equal(m.pending, before)


def test_transfer_abandons_every_pending_transition_at_a_rate_of_one(baseline):
    sc = baseline.with_changes({"transition.abandon_mutual": 1.0, "support.abandon_reduction": 0.0})
    m = DivestmentModel(sc, seed=0)
    pending = (m.pending >= 0).sum()
    year = _year(m)
    pressure.assess(m, year)
    transitions.transfer(m, year)
    assert pending > 0 and (m.pending < 0).all() and year.new["abandoned"][0] == pending


def test_contracts_all_return_in_house_when_the_chance_is_one(baseline):
    sc = baseline.with_changes({"contract.p_return_in_house": 1.0})
    m = DivestmentModel(sc, seed=0)
    ending = rules.IS_DIVESTED[m.mode] & (m.contract_end == 2015)
    year = _year(m)
    pressure.assess(m, year)
    none = np.empty(0, dtype=np.int64)
    back, moved = providers.contract_ends(m, 2015, transitions.largest_provider_by_kind(m, (none, none)))
    assert ending.sum() > 0 and back[0] == ending.sum() and moved[0] == 0
    assert (m.mode[ending] == rules.IN_HOUSE).all()


def test_outside_sector_never_has_a_negative_rate_inside_the_allowed_ranges(baseline):
    """A support budget above the reference with a supported rate below the unsupported one: no crash.

    Scenario files and sweeps refuse such values (a constraint in parameters.toml); the model is robust
    to them even so, so the scenario is built past the checks.
    """
    changes = {
        "outside.new_mutuals_per_year": 0.0,
        "outside.new_mutuals_per_year_unsupported": 10.0,
        "support.budget_gbp_m_per_year": 30.0,
    }
    sc = dataclasses.replace(baseline, params={**baseline.params, **changes})
    m = DivestmentModel(sc, seed=0)
    year = _year(m)
    pressure.assess(m, year)
    outside.step(m, year)  # raised "lam < 0" before
    assert m.out_n[0] >= 0


def test_outside_sector_with_no_events_grows_only_its_trading_income(baseline):
    """No births, failures, losses or mergers: the count holds; spend grows by trading alone."""
    sc = baseline.with_changes(
        {
            "outside.right_to_provide": False,
            "outside.central_programme": False,
            "outside.fail_rate_per_year": 0.0,
            "outside.p_lose_retender": 0.0,
            "outside.p_merge_per_year": 0.0,
            "outside.commissioner_change_per_year": 0.0,
        }
    )
    m = DivestmentModel(sc, seed=0)
    n, spend = m.out_n.copy(), m.out_spend.copy()
    year = _year(m)
    pressure.assess(m, year)
    outside.step(m, year)
    growth = 1 + sc.params["outside.staff_growth_per_year"] * m.price[2015] / m.price[2014]  # in posts
    assert m.out_n[0] == n[0] and m.out_spend[0] == pytest.approx(spend[0] * growth)


def test_record_advances_the_year_and_adds_one_row(baseline):
    m = DivestmentModel(baseline, seed=0)
    rows = len(m.rows)
    year = _year(m)
    year.new["live"] = np.array([3])
    record.record(m, year)
    assert m.year == 2015 and len(m.rows) == rows + 1 and m.latest("new_live") == 3


def test_a_step_past_the_end_year_does_nothing(baseline):
    m = DivestmentModel(baseline.with_changes({}, end_year=2015), seed=0)
    m.step()
    assert not m.running and m.year == 2015
    m.step()
    assert m.year == 2015 and len(m.rows) == 2
