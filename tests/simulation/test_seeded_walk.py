"""Deterministic simulation: a seeded, bounded random walk over the engine, checked after every
step against the reference model of `model.py` (which imports nothing from the engine).

The walk plays the stateful machine's operations (attach, track with cap/reject and keys,
refund, check and check-and-deduct, expiring grants, reversals, the engine clock and each
customer's test clock, rollovers through the resets) and adds three of its own:
* locks: a check that reserves (`lock`), confirmed or released later, or left to lapse;
* plan edits: the main plan's amounts change; existing customers keep their version, new
  customers get the new one;
* interleaving: the two customers are actors whose multi-step work (a held lock) stays open
  while the other actor, the clock and the plan editor act; the schedule is the seed's.

Every choice comes from `random.Random(seed)`, so a failure names its seed and step and
replays exactly: `ALLOTMENT_SIM_SEED=<seed> pytest tests/simulation/test_seeded_walk.py`
(`ALLOTMENT_SIM_STEPS` sets the length). CI runs a fixed set of seeds; `ALLOTMENT_LONG=1` runs
many more, longer.

Lock rule modelled (the same as a reversal's): a release, a lapse or a confirm at 0 gives each
payment back, last first, to the row that paid, at most up to its granted amount, and nothing
to a row that has reset, expired or closed by the instant of the release; a lapse happens at
its `expires_at`, in time order with the boundaries and expiries around it. A confirm at a
negative `override_value` (issue 10 item 8) does the same and then refunds the absolute value
on top by the rule of a negative track (reverse deduction order, never above granted); the
lock's event then costs that negative value.
"""

from __future__ import annotations

import os
import random
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from tests.conftest import LONG, POSTGRES_SERVER, REQUIRE_POSTGRES, _postgres_reachable
from tests.simulation.model import WORK, MainItem, RolloverRule
from tests.simulation.test_stateful_model import (
    COSTS,
    CUSTOMERS,
    FINALIZE_HOWS,
    LOCK_MINUTES,
    MAX_LOOSE,
    MAX_TOPUPS,
    STARTS,
    PostgresMachine,
    SQLiteMachine,
    _item,
)

pytestmark = pytest.mark.reliability

REPLAY = os.environ.get("ALLOTMENT_SIM_SEED")
STEPS = int(os.environ.get("ALLOTMENT_SIM_STEPS") or (300 if LONG else 80))
SQLITE_SEEDS = [int(REPLAY)] if REPLAY else list(range(200 if LONG else 30))
POSTGRES_SEEDS = [int(REPLAY)] if REPLAY else list(range(30 if LONG else 4))


def _amount(rng: random.Random) -> Decimal:
    if rng.random() < 0.5:
        return Decimal(rng.randint(1, 12))
    return Decimal(rng.randint(1, 3000)) / 100


def _minutes(rng: random.Random) -> int:
    return rng.choice(
        [
            rng.randint(1, 180),
            rng.randint(1, 72) * 60,
            rng.randint(1, 40) * 24 * 60,
            rng.randint(32, 120) * 24 * 60,  # several boundaries at once
        ]
    )


def _rule(rng: random.Random) -> RolloverRule | None:
    shape = rng.choice(["none", "max_month", "percentage_forever"])
    if shape == "max_month":
        return RolloverRule(max=Decimal(rng.randint(0, 8)), expiry_months=rng.randint(1, 3))
    if shape == "percentage_forever":
        return RolloverRule(max_percentage=Decimal(rng.choice([0, 10, 25, 50, 100])))
    return None


def _plan(rng: random.Random, scale: int = 1) -> list[MainItem]:
    items = [MainItem(WORK, Decimal(rng.randint(1, 20) * scale), True, _rule(rng))]
    if rng.random() < 0.5:
        monthly = rng.random() < 0.5
        items.append(
            MainItem("pool", Decimal(rng.randint(1, 60)), monthly, _rule(rng) if monthly else None)
        )
    return items


class Walk:
    """The stateful machine (locks included) plus plan edits, driven by one seed."""

    def __init__(self, machine: SQLiteMachine | PostgresMachine, seed: int) -> None:
        self.machine = machine
        self.rng = random.Random(seed)
        self.plan_version = 1

    def sync(self) -> None:
        """Bring the model to every customer's present (the machine lapses held locks)."""
        self.machine._sync()

    def edit_plan(self) -> None:
        """New amounts for the main plan: a new version for customers attached later."""
        mc = self.machine
        self.sync()
        items = _plan(self.rng)
        mc.e.plans.update(plan_id="main", items=[_item(i) for i in items])
        mc.m.main_items = items
        self.plan_version += 1

    # the schedule ---------------------------------------------------------------------------

    def _choices(self) -> list[tuple[int, str, Callable[[], dict[str, Any]]]]:
        rng, m = self.rng, self.machine.m
        who = lambda: rng.randint(0, len(CUSTOMERS) - 1)  # noqa: E731
        topups = sum(r.add_on for c in m.customers.values() for r in c.rows)
        choices: list[tuple[int, str, Callable[[], dict[str, Any]]]] = [
            (
                10,
                "track",
                lambda: {
                    "index": who(),
                    "value": _amount(rng),
                    "behavior": rng.choice([None, "cap", "reject"]),
                },
            ),
            (
                4,
                "track_near_an_edge",
                lambda: {
                    "index": who(),
                    "reach": rng.choice(["own", "all", "used"]),
                    "cents": rng.randint(-3, 3),
                    "behavior": rng.choice(["cap", "reject"]),
                },
            ),
            (3, "refund", lambda: {"index": who(), "value": _amount(rng)}),
            (
                3,
                "track_with_key",
                lambda: {
                    "index": who(),
                    "key": f"k{rng.randint(1, 6)}",
                    "value": _amount(rng),
                    "behavior": rng.choice(["cap", "reject"]),
                    "negative": rng.random() < 0.2,
                },
            ),
            (
                5,
                "check",
                lambda: {"index": who(), "amount": _amount(rng), "send_event": rng.random() < 0.5},
            ),
            (5, "advance", lambda: {"amount": _minutes(rng)}),
            (3, "advance_to_an_edge", lambda: {"offset_ms": rng.choice([-1, 0, 1])}),
            (
                3,
                "advance_test_clock",
                lambda: {
                    "index": who(),
                    "how": rng.choice(["later", "edge", "jump", "past", "same"]),
                    "amount": _minutes(rng),
                    "jump": rng.randint(32, 120) * 24 * 60,
                    "offset_ms": rng.choice([-1, 0, 1]),
                },
            ),
            (
                4,
                "reserve",
                lambda: {
                    "index": who(),
                    "value": _amount(rng),
                    "minutes": rng.choice(LOCK_MINUTES),
                },
            ),
            (1, "edit_plan", dict),
        ]
        if self.machine.held:
            choices.append(
                (
                    4,
                    "finalize",
                    lambda: {
                        "pick": rng.randint(0, 40),
                        "how": rng.choice(FINALIZE_HOWS),
                        "refund": _amount(rng),
                    },
                )
            )
        if len(m.customers) < len(CUSTOMERS):
            choices.append((3, "add_customer", dict))
        if topups < MAX_TOPUPS:
            choices.append((1, "attach_topup", lambda: {"index": who()}))
        if self.machine.loose < MAX_LOOSE:
            choices.append(
                (
                    2,
                    "create_loose_grant",
                    lambda: {
                        "index": who(),
                        "feature": rng.choice([WORK, "pool"]),
                        "work": _amount(rng),
                        "pool": _amount(rng) * 3,
                        "when": rng.choice(["later", "edge", "same_as_another", "now", "far"]),
                        "amount": _minutes(rng),
                        "offset_ms": rng.choice([-1, 0, 1]),
                    },
                )
            )
        if m.events:
            choices.append(
                (
                    3,
                    "reverse_event",
                    lambda: {
                        "back": rng.randint(0, 40),
                        "which": rng.choice(
                            ["pending"] * 4 + ["stale"] * 3 + ["reversed", "unknown"]
                        ),
                        "by_key": rng.random() < 0.5,
                    },
                )
            )
        return choices

    def step(self) -> str:
        choices = self._choices()
        weights = [weight for weight, _, _ in choices]
        _, name, arguments = self.rng.choices(choices, weights)[0]
        args = arguments()
        if name == "edit_plan":
            self.edit_plan()
        else:
            self.sync()
            getattr(self.machine, name)(**args)
        return f"{name}({', '.join(f'{k}={v!r}' for k, v in args.items())})"

    def check(self) -> None:
        self.sync()
        self.machine.balances_match_the_model()
        self.machine.ledger_verifies()


def _walk(machine: SQLiteMachine | PostgresMachine, seed: int, steps: int) -> None:
    setup = random.Random(f"setup-{seed}")
    walk = Walk(machine, seed)
    done: list[str] = []
    try:
        machine.setup(
            cost=setup.choice(COSTS),
            items=_plan(setup),
            topup=Decimal(setup.randint(1, 60)),
            start=setup.choice(STARTS),
            topups=setup.randint(0, 2),
        )
        walk.check()
        for _ in range(steps):
            done.append(walk.step())
            walk.check()
    except Exception as error:
        recent = "\n  ".join(done[-8:])
        raise AssertionError(
            f"seed {seed} failed at step {len(done)} of {steps}: {error!r}\n"
            f"last steps:\n  {recent}\n"
            f"replay: ALLOTMENT_SIM_SEED={seed} ALLOTMENT_SIM_STEPS={steps} "
            "pytest tests/simulation/test_seeded_walk.py"
        ) from error
    finally:
        machine.teardown()
    print(
        f"seed {seed}: {steps} steps, {machine.locks} locks ({machine.released} released, "
        f"{machine.lapsed} lapsed, {machine.below_zero} confirmed below zero), "
        f"{walk.plan_version} plan versions, {len(machine.m.events)} events"
    )


def test_the_same_seed_walks_the_same_way() -> None:
    """Replay is exact: two walks of one seed make the same choices."""
    first, second = SQLiteMachine(), SQLiteMachine()
    try:
        a, b = Walk(first, 7), Walk(second, 7)
        assert [a.rng.random() for _ in range(5)] == [b.rng.random() for _ in range(5)]
    finally:
        first.teardown()
        second.teardown()


@pytest.mark.parametrize("seed", SQLITE_SEEDS)
def test_seeded_walk_on_sqlite(seed: int) -> None:
    _walk(SQLiteMachine(), seed, STEPS)


@pytest.mark.parametrize("seed", POSTGRES_SEEDS)
def test_seeded_walk_on_postgresql(seed: int) -> None:
    if not _postgres_reachable():
        message = f"PostgreSQL not reachable at {POSTGRES_SERVER}"
        if REQUIRE_POSTGRES:
            pytest.fail(message + " (ALLOTMENT_REQUIRE_POSTGRES=1)")
        pytest.skip(message)
    _walk(PostgresMachine(), seed, STEPS)
