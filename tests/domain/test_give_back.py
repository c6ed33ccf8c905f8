"""The one give-back rule (a reversal; a lock's release, lower confirmation or lapse), on plain
values: hand-worked partial refunds, a grant reset since, the granted cap, a units limit and
pool costs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from allotment.domain.give_back import GONE, NO_ROOM, RESET_SINCE, GiveBack, plan_give_back
from allotment.domain.grants import Grant
from tests.domain.builders import U, make_grant, monthly_grant, utc

PAID = utc(2026, 1, 20)


@dataclass(frozen=True)
class Entry:
    """A recorded ledger entry of the event (what `plan_give_back` reads of one)."""

    grant_id: int
    kind: str
    amount: int
    units: int | None = None
    feature_id: str | None = "f"
    effective_at: datetime = PAID


def usage(grant_id: int, credits: int, units: int | None = None) -> Entry:
    return Entry(grant_id, "usage", -credits, credits if units is None else units)


def by_id(*grants: Grant) -> dict[int, Grant]:
    return {g.id: g for g in grants}


def back(plan: GiveBack) -> tuple[int, int, int, int, int, str | None]:
    return (
        plan.grant_id,
        plan.owed,
        plan.credits,
        plan.units,
        plan.unrestored_units,
        plan.reason,
    )


def test_everything_goes_back_last_entry_first() -> None:
    a = make_grant(1, 4 * U, granted=10 * U)  # paid 6
    b = make_grant(2, 0, granted=4 * U)  # paid 4, last
    plans = plan_give_back([usage(1, 6 * U), usage(2, 4 * U)], by_id(a, b), "reversal")
    assert [back(p) for p in plans] == [
        (2, 4 * U, 4 * U, 4 * U, 0, None),
        (1, 6 * U, 6 * U, 6 * U, 0, None),
    ]
    assert {p.kind for p in plans} == {"reversal"}
    assert {p.feature_id for p in plans} == {"f"}


def test_what_was_given_back_already_is_netted() -> None:
    # grant 1 paid 6, then a release gave 2 back: 4 are still owed, covering 4 of the 6 units
    a = make_grant(1, 6 * U, granted=10 * U)
    entries = [usage(1, 6 * U), Entry(1, "release", 2 * U, -2 * U)]
    assert [back(p) for p in plan_give_back(entries, by_id(a), "reversal")] == [
        (1, 4 * U, 4 * U, 4 * U, 0, None)
    ]


def test_a_refund_larger_than_the_last_entry_nets_the_earlier_one_too() -> None:
    # grant 1 paid 3 then 5; 6 came back (a refund and a reversal): the 5 is settled, the 3 is
    # owed 2
    a = make_grant(1, 4 * U, granted=10 * U)
    entries = [
        usage(1, 3 * U),
        usage(1, 5 * U),
        Entry(1, "refund", 4 * U, -4 * U),
        Entry(1, "reversal", 2 * U, -2 * U),
    ]
    assert [back(p) for p in plan_give_back(entries, by_id(a), "release")] == [
        (1, 2 * U, 2 * U, 2 * U, 0, None)
    ]


def test_an_event_settled_already_or_without_usage_plans_nothing() -> None:
    a = make_grant(1, 10 * U, granted=10 * U)
    settled = [usage(1, 5 * U), Entry(1, "release", 5 * U, -5 * U)]
    assert plan_give_back(settled, by_id(a), "reversal") == []
    refund_only = [Entry(1, "refund", 5 * U, -5 * U), Entry(1, "unrestored", 0, -1 * U)]
    assert plan_give_back(refund_only, by_id(a), "reversal") == []


def test_a_grant_reset_since_gets_nothing_back() -> None:
    # monthly from Jan 1; the Feb 1 boundary has been applied (reset_index 1): usage paid on
    # Jan 20 is not given to the new cycle, usage paid on Feb 3 is
    reset = monthly_grant(utc(2026, 1, 1), 10 * U, 2 * U, id=1, reset_index=1)
    entries = [usage(1, 5 * U), Entry(1, "usage", -3 * U, 3 * U, "f", utc(2026, 2, 3))]
    assert [back(p) for p in plan_give_back(entries, by_id(reset), "reversal")] == [
        (1, 3 * U, 3 * U, 3 * U, 0, None),
        (1, 5 * U, 0, 0, 5 * U, RESET_SINCE),
    ]


def test_a_grant_expired_or_revoked_since_gets_nothing_back() -> None:
    plans = plan_give_back([usage(7, 5 * U, 2 * U)], {}, "release")
    assert [back(p) for p in plans] == [(7, 5 * U, 0, 0, 2 * U, GONE)]


def test_each_grant_goes_back_at_most_to_its_granted_amount() -> None:
    # 5 paid, but the balance was set to 7 of 10 since: 3 go back, 2 are not restored
    a = make_grant(1, 7 * U, granted=10 * U)
    assert [back(p) for p in plan_give_back([usage(1, 5 * U)], by_id(a), "reversal")] == [
        (1, 5 * U, 3 * U, 3 * U, 2 * U, NO_ROOM)
    ]
    full = make_grant(1, 10 * U, granted=10 * U)
    assert [back(p) for p in plan_give_back([usage(1, 5 * U)], by_id(full), "release")] == [
        (1, 5 * U, 0, 0, 5 * U, NO_ROOM)
    ]


def test_the_room_is_shared_by_the_entries_of_one_grant() -> None:
    # two payments of 4 by a grant with room for 6: the last gets 4, the first the other 2
    a = make_grant(1, 4 * U, granted=10 * U)
    plans = plan_give_back([usage(1, 4 * U), usage(1, 4 * U)], by_id(a), "reversal")
    assert [back(p) for p in plans] == [
        (1, 4 * U, 4 * U, 4 * U, 0, None),
        (1, 4 * U, 2 * U, 2 * U, 2 * U, NO_ROOM),
    ]


def test_an_unlimited_grant_takes_its_usage_back() -> None:
    unlimited = make_grant(1, -5 * U, granted=0, unlimited=True)
    assert [back(p) for p in plan_give_back([usage(1, 5 * U)], by_id(unlimited), "release")] == [
        (1, 5 * U, 5 * U, 5 * U, 0, None)
    ]


def test_a_pool_gives_back_credits_and_reports_the_units_they_covered() -> None:
    # 5 units at 3 credits each = 15 credits; room for 6 credits: 2 units' worth goes back,
    # 3 units' worth is not restored
    pool = make_grant(2, 24 * U, granted=30 * U, feature_id="credits")
    plans = plan_give_back([usage(2, 15 * U, 5 * U)], by_id(pool), "reversal")
    assert [back(p) for p in plans] == [(2, 15 * U, 6 * U, 2 * U, 3 * U, NO_ROOM)]


def test_pool_units_are_rounded_down_per_part() -> None:
    # 1 credit paid for 3 units; room for 0.5 credits: 1.5 units back, 1.5 not restored
    pool = make_grant(2, 9_500_000, granted=10 * U, feature_id="credits")
    plans = plan_give_back([usage(2, 1 * U, 3 * U)], by_id(pool), "reversal")
    assert [back(p) for p in plans] == [(2, 1 * U, U // 2, 1_500_000, 1_500_000, NO_ROOM)]
    # 3 credits paid for 1 unit; room for one millionth of a credit: 0.000000333 units back
    # rounds down to 0, and 0.999999666 not restored to 0.999999 (a millionth is lost)
    pool = make_grant(2, 10 * U - 1, granted=10 * U, feature_id="credits")
    plans = plan_give_back([usage(2, 3 * U, 1 * U)], by_id(pool), "reversal")
    assert [back(p) for p in plans] == [(2, 3 * U, 1, 0, 999_999, NO_ROOM)]


def test_a_units_limit_counts_down_from_the_last_entry() -> None:
    # a lock of 10 units: 6 from the own grant, then 4 from a pool at 3 credits each.
    # Confirmed at 5: 5 units go back, the pool's 4 (12 credits) and 1 of the own grant's 6
    own = make_grant(1, 4 * U, granted=10 * U)
    pool = make_grant(2, 18 * U, granted=30 * U, feature_id="credits")
    entries = [usage(1, 6 * U), usage(2, 12 * U, 4 * U)]
    plans = plan_give_back(entries, by_id(own, pool), "release", 5 * U)
    assert [back(p) for p in plans] == [
        (2, 12 * U, 12 * U, 4 * U, 0, None),
        (1, 1 * U, 1 * U, 1 * U, 0, None),
    ]
    # a limit of 4 stops at the pool entry: the own grant gets nothing
    plans = plan_give_back(entries, by_id(own, pool), "release", 4 * U)
    assert [back(p) for p in plans] == [(2, 12 * U, 12 * U, 4 * U, 0, None)]


def test_a_units_limit_inside_a_pool_entry_gives_back_its_share_rounded_down() -> None:
    # 3 units paid 1 credit; 1 unit goes back: 0.333333 credits (rounded down), 1 unit
    pool = make_grant(2, 9 * U, granted=10 * U, feature_id="credits")
    plans = plan_give_back([usage(2, 1 * U, 3 * U)], by_id(pool), "release", 1 * U)
    assert [back(p) for p in plans] == [(2, 333_333, 333_333, 1 * U, 0, None)]


def test_a_units_limit_counts_what_is_not_restored() -> None:
    # the pool entry's grant reset since: 3 of its 4 units are the ones to give back, so they
    # are recorded as not restored and the own grant keeps its usage
    own = make_grant(1, 4 * U, granted=10 * U)
    pool = monthly_grant(utc(2026, 1, 1), 30 * U, 30 * U, id=2, reset_index=1)
    entries = [usage(1, 6 * U), usage(2, 12 * U, 4 * U)]
    plans = plan_give_back(entries, by_id(own, pool), "release", 3 * U)
    assert [back(p) for p in plans] == [(2, 9 * U, 0, 0, 3 * U, RESET_SINCE)]
    # capped by the granted amount: the units are counted too (1 restored, 2 not)
    capped = make_grant(2, 27 * U, granted=30 * U, feature_id="credits")
    plans = plan_give_back(entries, by_id(own, capped), "release", 3 * U)
    assert [back(p) for p in plans] == [(2, 9 * U, 3 * U, 1 * U, 2 * U, NO_ROOM)]


def test_the_entries_are_read_as_recorded_not_as_given() -> None:
    # the order of the event's entries decides which is last: not the grant ids
    a, b = make_grant(1, 0, granted=5 * U), make_grant(2, 0, granted=5 * U)
    plans = plan_give_back([usage(2, 1 * U), usage(1, 2 * U)], by_id(a, b), "reversal")
    assert [p.grant_id for p in plans] == [1, 2]
