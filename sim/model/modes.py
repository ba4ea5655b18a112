"""The vocabulary of the model: delivery modes, appraisal options and the changes of mode allowed.

Modes are of a service part (its provision, whoever runs it); options are what an appraisal weighs.
"""

import numpy as np

# Delivery modes of a service part (its provision, whoever runs it).
(
    IN_HOUSE,
    REBOOTED,
    REDUCED,
    COMMUNITY,
    OUTSOURCED,
    SHARED,
    LATC,
    TRUST,
    MUTUAL,
    JOINT,
    LEGACY,
) = range(11)
MODES = (
    "in_house",
    "rebooted",
    "reduced",
    "community",
    "outsourced",
    "shared",
    "latc",
    "trust",
    "mutual",
    "joint_mutual",
    "legacy_trust",
)
"""In-house, re-booted in-house, cut or closed (still the council's), run by a community or volunteer
group, outsourced to a private or voluntary contractor, shared with (run by) another council, a council
trading company, a new non-mutual trust, a staff-led mutual, a joint council-staff mutual, and a trust that
existed before 2010 (leisure)."""
N_MODES = len(MODES)
MUTUAL_MODES = (MUTUAL, JOINT)
DIVESTED_MODES = (COMMUNITY, OUTSOURCED, SHARED, LATC, TRUST, MUTUAL, JOINT)
"""Modes run by a provider outside the council under a contract (a provider can fail or lose its contract)."""
COUNCIL_MODES = (IN_HOUSE, REBOOTED, REDUCED)
"""Modes whose staff the council employs."""
IS_MUTUAL = np.isin(np.arange(N_MODES), MUTUAL_MODES)
IS_DIVESTED = np.isin(np.arange(N_MODES), DIVESTED_MODES)
IS_COUNCIL = np.isin(np.arange(N_MODES), COUNCIL_MODES)
IS_REVIEWABLE = IS_COUNCIL.copy()
"""Lookup tables by mode: ``IS_MUTUAL[mode_array]`` is a fast ``np.isin``."""

# Options of the appraisal, in column order. KEEP keeps the current mode (and cuts within it).
(
    KEEP,
    OPT_REBOOT,
    OPT_REDUCE,
    OPT_COMMUNITY,
    OPT_OUTSOURCE,
    OPT_SHARE,
    OPT_LATC,
    OPT_TRUST,
    OPT_MUTUAL,
    OPT_JOINT,
) = range(10)
OPTIONS = (
    "keep",
    "reboot",
    "reduce",
    "community",
    "outsource",
    "share",
    "latc",
    "trust",
    "mutual",
    "joint_mutual",
)
N_OPTIONS = len(OPTIONS)
OPTION_KEY = {o: "joint" if o == "joint_mutual" else o for o in OPTIONS}
"""The registry's name of each option (``appraisal.saving_<key>``, ``policy.allow_<key>``)."""
OPTION_MODE = np.array([-1, REBOOTED, REDUCED, COMMUNITY, OUTSOURCED, SHARED, LATC, TRUST, MUTUAL, JOINT])
MUTUAL_OPTIONS = (OPT_MUTUAL, OPT_JOINT)

SERVICE_OPTIONS = np.array(
    [
        # keep reboot reduce community outsource share latc trust mutual joint
        [1, 1, 1, 0, 1, 1, 1, 0, 1, 1],  # adult social care: no volunteer groups, no non-mutual trusts
        [1, 1, 1, 1, 1, 1, 1, 1, 1, 1],  # libraries
        [1, 1, 1, 1, 1, 1, 1, 1, 1, 1],  # leisure
    ],
    dtype=bool,
)
"""Options open to each service (rows: adult social care, libraries, leisure). Assumption, from the named
cases and patterns known by 2014 (CALIBRATION.md): volunteer-run branches and centres and leisure or
library trusts are library and leisure options; adult social care went to trading companies, mutuals and
contractors."""

ALLOWED_TRANSITIONS = frozenset(
    {(a, b) for a in COUNCIL_MODES for b in (*DIVESTED_MODES, REBOOTED, REDUCED) if a != b}
    | {(d, IN_HOUSE) for d in DIVESTED_MODES}
    | {(d, OUTSOURCED) for d in DIVESTED_MODES if d != OUTSOURCED}
)
"""Every (from, to) mode change the model may make: a council mode to any option; a provider's service
back in-house or, when a contractor wins its re-tender, outsourced (a provider that wins another's contract
or takes it over keeps the mode); legacy trusts keep their mode."""
