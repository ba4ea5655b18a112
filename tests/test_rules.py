"""Decision rules as case tables: each rule is a pure function of its inputs and draws."""

import numpy as np
import pytest

from sim.model import rules
from sim.model.rules import (
    KEEP,
    OPT_COMMUNITY,
    OPT_JOINT,
    OPT_LATC,
    OPT_MUTUAL,
    OPT_OUTSOURCE,
    OPT_REBOOT,
    OPT_REDUCE,
    OPT_TRUST,
)


def weights(**over):
    """Weights of the order of the defaults; per-option tuples in the order of rules.OPTIONS."""
    base = dict(
        weight_savings=20.0,
        reference_pressure=0.25,
        # keep reboot reduce community outsource share latc trust mutual joint
        savings=(0.0, 0.05, 0.3, 0.4, 0.12, 0.08, 0.10, 0.10, 0.12, 0.10),
        weight_risk=2.0,
        risks=(0.0, 0.1, 0.8, 0.6, 0.35, 0.3, 0.3, 0.3, 0.6, 0.45),
        complexity=(0.0, 0.0, 0.0, 0.8, 1.0, 1.2, 1.0, 1.0, 1.5, 1.5),
        service_loss=(0.0, 0.0, 1.0, 0.6, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0),
        weight_service_loss=10.0,
        high_jump=1.5,
        weight_culture=1.5,
        joint_culture_factor=0.4,
        weight_peer_region=0.5,
        weight_peer_national=0.2,
        commercial=0.5,
        proposal_bonus=1.0,
        support_barrier_reduction=0.5,
        duty_effect=0.0,
        noise_scale=1.0,
        allowed=(True,) * rules.N_OPTIONS,
    )
    base.update(over)
    return rules.AppraisalWeights(**base)


def with_option(name, option, value):
    """A per-option tuple of the default weights with one option's entry changed."""
    values = list(getattr(weights(), name))
    values[option] = value
    return tuple(values)


def appraise_one(
    w=None,
    pressure=0.25,
    resistance=0.5,
    proposal=False,
    supported=False,
    rebooted=False,
    peers_region=0.0,
    peers_national=0.0,
    mode=rules.IN_HOUSE,
    service=1,  # libraries: every option is open
):
    u = np.full((1, rules.N_OPTIONS), np.exp(-np.exp(0.0)))  # Gumbel noise exactly 0 for every option
    return rules.appraise(
        np.array([pressure]),
        np.array([resistance]),
        np.array([proposal]),
        np.array([supported]),
        np.array([rules.REBOOTED if rebooted else mode]),
        np.array([service]),
        np.array([peers_region]),
        np.array([peers_national]),
        u,
        w or weights(),
    )[0]


def test_zero_noise_draw_gives_zero_gumbel():
    assert rules.gumbel(np.array([np.exp(-1.0)]))[0] == pytest.approx(0.0)


def test_keep_is_zero_without_noise():
    assert appraise_one()[KEEP] == pytest.approx(0.0)


@pytest.mark.parametrize(
    ("change", "option", "direction"),
    [
        (dict(pressure=0.4), OPT_MUTUAL, +1),
        (dict(pressure=0.4), OPT_LATC, +1),
        (dict(pressure=0.4), KEEP, 0),
        (dict(pressure=0.4), OPT_REDUCE, +1),
        (dict(pressure=0.4), OPT_OUTSOURCE, +1),
        (dict(supported=True), OPT_OUTSOURCE, 0),
        (dict(peers_region=10.0), OPT_TRUST, 0),
        (dict(resistance=0.9), OPT_MUTUAL, -1),
        (dict(proposal=True), OPT_MUTUAL, +1),
        (dict(supported=True), OPT_MUTUAL, +1),
        (dict(supported=True), OPT_LATC, 0),
        (dict(peers_region=10.0), OPT_MUTUAL, +1),
        (dict(peers_region=10.0), OPT_JOINT, +1),
        (dict(peers_region=10.0), OPT_LATC, 0),
        (dict(peers_national=50.0), OPT_MUTUAL, +1),
    ],
    ids=[
        "pressure raises mutual",
        "pressure raises LATC",
        "keep saves nothing at zero keep saving",
        "pressure raises reduce",
        "pressure raises outsourcing",
        "support leaves outsourcing",
        "peers leave trust",
        "resistance lowers mutual",
        "proposal raises mutual",
        "support raises mutual",
        "support leaves LATC",
        "regional peers raise mutual",
        "regional peers raise joint",
        "peers leave LATC",
        "national peers raise mutual",
    ],
)
def test_direction_of_each_input(change, option, direction):
    before, after = appraise_one()[option], appraise_one(**change)[option]
    assert np.sign(round(after - before, 12)) == direction


@pytest.mark.parametrize(
    ("w_change", "option", "direction"),
    [
        (dict(high_jump=3.0), OPT_MUTUAL, -1),
        (dict(high_jump=3.0), OPT_JOINT, -1),
        (dict(high_jump=3.0), OPT_LATC, 0),
        (dict(complexity=with_option("complexity", OPT_MUTUAL, 0.0)), OPT_MUTUAL, +1),
        (dict(weight_service_loss=0.0), OPT_REDUCE, +1),
        (dict(weight_service_loss=0.0), OPT_COMMUNITY, +1),
        (dict(weight_service_loss=0.0), OPT_OUTSOURCE, 0),
        (dict(commercial=2.0), OPT_LATC, +1),
        (dict(commercial=2.0), OPT_JOINT, +1),
        (dict(commercial=2.0), OPT_MUTUAL, 0),
        (dict(weight_culture=0.0), OPT_MUTUAL, +1),
    ],
    ids=[
        "high jump lowers mutual",
        "high jump lowers joint",
        "high jump leaves LATC",
        "simplification raises mutual",
        "no weight on lost provision raises reduce",
        "no weight on lost provision raises community",
        "lost provision leaves outsourcing",
        "commercial raises LATC",
        "commercial raises joint",
        "commercial leaves mutual",
        "no culture barrier raises mutual",
    ],
)
def test_direction_of_each_weight(w_change, option, direction):
    before, after = appraise_one()[option], appraise_one(weights(**w_change))[option]
    assert np.sign(round(after - before, 12)) == direction


def test_duty_removes_resistance_only_for_proposals():
    duty = weights(duty_effect=1.0)
    assert appraise_one(duty, proposal=True)[OPT_MUTUAL] > appraise_one(proposal=True)[OPT_MUTUAL]
    assert appraise_one(duty, proposal=False)[OPT_MUTUAL] == appraise_one(proposal=False)[OPT_MUTUAL]


def test_joint_venture_faces_less_culture_barrier_than_staff_led():
    low, high = appraise_one(resistance=0.0), appraise_one(resistance=1.0)
    assert (low - high)[OPT_JOINT] < (low - high)[OPT_MUTUAL]


def test_options_switched_off_are_never_chosen():
    allowed = tuple(o not in (OPT_MUTUAL, OPT_JOINT) for o in range(rules.N_OPTIONS))
    util = appraise_one(weights(allowed=allowed))
    assert util[OPT_MUTUAL] == -np.inf and util[OPT_JOINT] == -np.inf
    assert rules.choose(util[None, :])[0] not in (OPT_MUTUAL, OPT_JOINT)


def test_rebooted_service_cannot_reboot_again():
    assert appraise_one(rebooted=True)[OPT_REBOOT] == -np.inf


def test_a_reduced_part_cannot_be_reduced_again():
    assert appraise_one(mode=rules.REDUCED)[OPT_REDUCE] == -np.inf


@pytest.mark.parametrize(
    ("service", "closed"),
    [(0, {OPT_COMMUNITY, OPT_TRUST}), (1, set()), (2, set())],
    ids=["adult social care", "libraries", "leisure"],
)
def test_options_open_to_each_service(service, closed):
    util = appraise_one(service=service)
    assert {o for o in range(rules.N_OPTIONS) if util[o] == -np.inf} == closed


def test_ties_go_to_keep():
    assert rules.choose(np.zeros((1, rules.N_OPTIONS)))[0] == KEEP


@pytest.mark.parametrize(
    ("cash", "cost", "expected"),
    [([0.03, 0.03], 0.03, [1.0, 1.0]), ([0.0, 0.0], 0.03, [0.97, 0.97**2]), ([-0.05], 0.0, [0.95])],
    ids=["funding keeps pace", "flat cash", "cash cut"],
)
def test_real_funding_index(cash, cost, expected):
    np.testing.assert_allclose(rules.real_funding_index(np.array([cash]), cost)[0], expected)


def test_budget_pressure_is_clipped_and_scaled():
    np.testing.assert_allclose(rules.budget_pressure(np.array([1.2, 0.8, -0.5]), 2.0), [0.0, 0.4, 2.0])


@pytest.mark.parametrize(
    ("pressure", "rate", "expected"), [(0.0, 1.0, 0.0), (1.0, 0.0, 0.0), (1.0, 1.0, 1 - np.exp(-1))]
)
def test_review_probability(pressure, rate, expected):
    assert rules.review_probability(np.array([pressure]), rate)[0] == pytest.approx(expected)


def test_proposals_rise_with_peers_and_vanish_at_zero_rate():
    p = rules.proposal_probability(0.05, 0.3, np.array([0.0, 5.0]))
    assert p[1] > p[0] > 0
    assert rules.proposal_probability(0.0, 0.3, np.array([5.0]))[0] == 0.0


@pytest.mark.parametrize(
    ("year", "expected"), [(2010, 0.0), (2011, 0.0), (2014, 0.5), (2017, 1.0), (2030, 1.0)]
)
def test_commercial_agenda_ramps(year, expected):
    assert rules.commercial_agenda(year, 2011, 6) == pytest.approx(expected)


def test_support_is_monotone_in_capacity():
    u = np.linspace(0.01, 0.99, 50)
    small, large = rules.supported_mask(u, 50, 10), rules.supported_mask(u, 50, 30)
    assert small.sum() < large.sum()
    assert not (small & ~large).any(), "more capacity never removes support"
    assert rules.supported_mask(u, 50, 0).sum() == 0


def test_weighted_sample_never_draws_zero_weight_and_is_deterministic():
    u = np.random.default_rng(1).random(100)
    w = np.r_[np.zeros(50), np.ones(50)]
    picked = rules.weighted_sample(u, w, 20)
    assert len(picked) == 20 and (picked >= 50).all()
    np.testing.assert_array_equal(picked, rules.weighted_sample(u, w, 20))
    assert len(rules.weighted_sample(u, w, 80)) == 50


def test_grow_spend():
    out = rules.grow_spend(np.array([10.0, 10.0]), np.array([-0.1, -0.1]), 1.0, np.array([0.0, 0.1]))
    np.testing.assert_allclose(out, [9.0, 9.9])


def test_allowed_transitions_exclude_legacy_and_self():
    assert all(a != b for a, b in rules.ALLOWED_TRANSITIONS)
    assert not any(rules.LEGACY in t for t in rules.ALLOWED_TRANSITIONS)


@pytest.mark.parametrize("pressure", [0.0, 0.1, 0.5], ids=["no pressure", "some", "deep cuts"])
def test_keeping_earns_its_own_savings_in_proportion_to_pressure(pressure):
    """Keep and cut is a real option: its utility is the saving weight times its saving, with no risk."""
    plain = appraise_one(pressure=pressure)
    kept = appraise_one(weights(savings=with_option("savings", KEEP, 0.04)), pressure=pressure)
    assert plain[KEEP] == pytest.approx(0.0, abs=1e-9)
    assert kept[KEEP] == pytest.approx(20.0 * pressure / 0.25 * 0.04, abs=1e-9)
    np.testing.assert_allclose(kept[1:], plain[1:])


@pytest.mark.parametrize(
    ("mode", "share", "before_2010", "counts"),
    [
        (rules.MUTUAL, 1.0, False, True),
        (rules.MUTUAL, 0.1, False, True),
        (rules.JOINT, 0.33, False, True),
        (rules.JOINT, 0.2, False, False),
        (rules.LATC, 0.0, False, False),
        (rules.TRUST, 0.0, False, False),
        (rules.COMMUNITY, 0.0, False, False),
        (rules.OUTSOURCED, 0.0, False, False),
        (rules.SHARED, 0.0, False, False),
        (rules.IN_HOUSE, 1.0, False, False),
        (rules.LEGACY, 0.0, True, False),
        (rules.MUTUAL, 1.0, True, False),
    ],
    ids=[
        "staff-led mutual",
        "staff-led whatever the share",
        "joint venture with a third staff-owned",
        "joint venture with too little staff control",
        "trading company (council-owned)",
        "new non-mutual trust",
        "community group",
        "contractor",
        "another council",
        "in-house",
        "pre-2010 leisure trust",
        "any body founded before 2010",
    ],
)
def test_which_providers_count_as_public_service_mutuals(mode, share, before_2010, counts):
    assert rules.counts_as_mutual(mode, share, 0.25, founded_before_2010=before_2010) is counts


def test_a_joint_venture_below_the_threshold_is_not_counted_in_the_totals():
    counted = rules.counted_modes(joint_staff_share=0.2, min_staff_share=0.25)
    assert counted[rules.MUTUAL] and not counted[rules.JOINT] and not counted[rules.LEGACY]
