"""Seeded databases: the seed's credit system (premium_request costs 3 credits; plan `pro`,
auto-enabled, gives a monthly allowance so large that nobody runs out during a run) and N
customers named `customer_0` … `customer_{N-1}`.

Creating a customer through the engine takes milliseconds, so by default only `customer_0`
(the template) is made through the engine — `customers.get_or_create`, plus any tracks the
dataset asks for — and the others are SQL copies of its rows: every table reachable from the
template customer by foreign keys (customer_plans, grants, events, entries, ...) is read by
reflection and copied with fresh ids, so each copy holds exactly what the engine wrote for the
template and the ledger stays consistent. The engine then verifies the ledger and checks that
the last copy answers exactly as the template does before anything is measured.
`--seed engine` instead creates every customer through the engine, in parallel processes.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

import psycopg
from sqlalchemy import MetaData, Table, create_engine, func, or_, select

from allotment import Allotment
from benchmarks.databases import sqlalchemy_url, sqlite_path

__all__ = [
    "CREDIT_COST",
    "FEATURE",
    "SeededDatabase",
    "customer_name",
    "seed",
]

FEATURE = "premium_request"
CREDIT_SYSTEM = "credits"
CREDIT_COST = 3
INCLUDED_CREDITS = 1_000_000_000  # a month's allowance nobody exhausts during a run
_CLONE_CHUNK = 50_000  # customers per generated chunk


def customer_name(index: int) -> str:
    return f"customer_{index}"


@dataclass(frozen=True)
class SeededDatabase:
    url: str
    customers: int
    tracks_per_customer: int


def create_catalog(engine: Allotment) -> None:
    engine.features.create(
        feature_id=FEATURE, name="Premium request", type_="metered", consumable=True
    )
    engine.features.create(
        feature_id=CREDIT_SYSTEM,
        name="Credits",
        type_="credit_system",
        credit_schema=[{"metered_feature_id": FEATURE, "credit_cost": CREDIT_COST}],
    )
    engine.plans.create(
        plan_id="pro",
        name="Pro",
        auto_enable=True,
        items=[
            {
                "feature_id": CREDIT_SYSTEM,
                "included": INCLUDED_CREDITS,
                "reset": {"interval": "month"},
            }
        ],
    )


def _make_customer(engine: Allotment, index: int, tracks: int) -> None:
    name = customer_name(index)
    engine.customers.get_or_create(customer_id=name)
    for _ in range(tracks):
        engine.track(customer_id=name, feature_id=FEATURE, value=1)


def seed(
    url: str, customers: int, *, tracks_per_customer: int = 0, via: str = "clone"
) -> SeededDatabase:
    """Create the catalog and `customers` customers (each with `tracks_per_customer` tracks of
    one premium request), then prove the database is consistent."""
    with Allotment(url) as engine:
        create_catalog(engine)
        _make_customer(engine, 0, tracks_per_customer)
    if customers > 1:
        if via == "clone":
            clone_customer(url, customer_name(0), range(1, customers))
        else:
            _create_in_processes(url, customers, tracks_per_customer)
    _prove(url, customers)
    return SeededDatabase(url, customers, tracks_per_customer)


def _create_range(url: str, start: int, stop: int, tracks: int) -> None:
    with Allotment(url, migrate=False) as engine:
        for index in range(start, stop):
            _make_customer(engine, index, tracks)


def _create_in_processes(url: str, customers: int, tracks: int) -> None:
    processes = os.cpu_count() or 2
    step = -(-(customers - 1) // processes)
    with ProcessPoolExecutor(processes) as pool:
        futures = [
            pool.submit(_create_range, url, start, min(start + step, customers), tracks)
            for start in range(1, customers, step)
        ]
        for future in futures:
            future.result()


def _prove(url: str, customers: int) -> None:
    with Allotment(url) as engine:
        report = engine.verify()
        if not report.ok:
            raise RuntimeError(f"seeded ledger does not verify: {report.summary()}")
        first, last = (_answer(engine, customer_name(i)) for i in (0, customers - 1))
        if first != last:
            raise RuntimeError(f"a copied customer answers differently: {first} != {last}")


def _answer(engine: Allotment, customer: str) -> tuple[object, ...]:
    answer = engine.check(customer_id=customer, feature_id=FEATURE, required_balance=1)
    balance = answer.balance
    if balance is None:
        return (answer.allowed,)
    return (
        answer.allowed,
        balance.feature_id,
        balance.granted,
        balance.remaining,
        balance.usage,
        balance.next_reset_at,
    )


# copying the template customer -------------------------------------------------------------


@dataclass
class _Captured:
    table: Table
    rows: list[dict[str, Any]]
    base_id: int  # the copies' ids start after this
    index_of: dict[Any, int]  # template id -> position among the template's rows


def _capture(url: str, template: str) -> list[_Captured]:
    """The template customer's rows in every table, in foreign-key order."""
    engine = create_engine(sqlalchemy_url(url))
    metadata = MetaData()
    metadata.reflect(engine)
    captured: dict[str, _Captured] = {}
    with engine.connect() as connection:
        for table in metadata.sorted_tables:
            if table.name == "customers":
                where = table.c.customer_id == template
            else:
                links = [
                    fk.parent.in_([row[fk.column.name] for row in captured[ref].rows])
                    for fk in table.foreign_keys
                    if (ref := fk.column.table.name) in captured
                ]
                if not links:
                    continue
                where = or_(*links)
            rows = [
                dict(r)
                for r in connection.execute(select(table).where(where).order_by(table.c.id))
                .mappings()
                .all()
            ]
            if rows:
                base = connection.execute(select(func.max(table.c.id))).scalar_one()
                index_of = {row["id"]: i for i, row in enumerate(rows)}
                captured[table.name] = _Captured(table, rows, int(base), index_of)
    engine.dispose()
    return list(captured.values())


def _remapper(item: _Captured, by_name: dict[str, _Captured]) -> dict[str, _Captured]:
    """Which columns of `item` point at copied rows (foreign keys, plus any column named
    customer_internal_id)."""
    columns = {
        fk.parent.name: by_name[fk.column.table.name]
        for fk in item.table.foreign_keys
        if fk.column.table.name in by_name
    }
    if "customer_internal_id" in item.table.c and "customers" in by_name:
        columns.setdefault("customer_internal_id", by_name["customers"])
    columns["id"] = item
    return columns


def _copies(
    item: _Captured, by_name: dict[str, _Captured], ordinals: Sequence[int], indexes: Sequence[int]
) -> Iterator[list[Any]]:
    """The rows of copies `ordinals` (named customer_name(i) for i in `indexes`): each
    template row with its ids shifted past the existing rows, foreign keys alike."""
    remap = _remapper(item, by_name)
    names = list(item.rows[0])
    plans: list[tuple[list[Any], list[tuple[int, int, int]]]] = []
    for row in item.rows:
        shifts = [
            (position, target.base_id + target.index_of[row[name]] + 1, len(target.rows))
            for position, name in enumerate(names)
            if (target := remap.get(name)) is not None and row[name] is not None
        ]
        plans.append(([row[name] for name in names], shifts))
    named = [p for p, name in enumerate(names) if name == "customer_id" and name not in remap]
    for ordinal, index in zip(ordinals, indexes, strict=True):
        customer = customer_name(index)
        for static, shifts in plans:
            values = static.copy()
            for position, offset, stride in shifts:
                values[position] = offset + ordinal * stride
            for position in named:
                values[position] = customer
            yield values


def clone_customer(url: str, template: str, indexes: range) -> None:
    """Insert copies of the template customer named customer_name(i) for i in `indexes`."""
    captured = _capture(url, template)
    by_name = {item.table.name: item for item in captured}
    for name in ("idempotency_key", "external_id", "lock_id"):
        for item in captured:
            if any(row.get(name) is not None for row in item.rows):
                raise RuntimeError(f"the template has a unique {name} in {item.table.name}")
    if url.startswith("sqlite"):
        _insert_sqlite(url, captured, by_name, indexes)
    else:
        _insert_postgres(url, captured, by_name, indexes)


def _chunks(indexes: range) -> Iterator[tuple[range, range]]:
    for start in range(0, len(indexes), _CLONE_CHUNK):
        stop = min(start + _CLONE_CHUNK, len(indexes))
        yield range(start, stop), indexes[start:stop]


def _insert_sqlite(
    url: str, captured: list[_Captured], by_name: dict[str, _Captured], indexes: range
) -> None:
    connection = sqlite3.connect(sqlite_path(url), isolation_level=None)
    try:
        for pragma in ("busy_timeout=60000", "cache_size=-262144", "synchronous=OFF"):
            connection.execute(f"PRAGMA {pragma}")
        connection.execute("BEGIN IMMEDIATE")
        for item in captured:
            names = list(item.rows[0])
            columns = ", ".join(f'"{n}"' for n in names)
            marks = ", ".join("?" for _ in names)
            statement = f'INSERT INTO "{item.table.name}" ({columns}) VALUES ({marks})'
            for ordinals, chunk in _chunks(indexes):
                connection.executemany(statement, _copies(item, by_name, ordinals, chunk))
        connection.execute("COMMIT")
    finally:
        connection.close()


def _insert_postgres(
    url: str, captured: list[_Captured], by_name: dict[str, _Captured], indexes: range
) -> None:
    with psycopg.connect(url) as connection:
        # the copies' foreign keys are computed, and the ledger is verified afterwards: skip
        # the per-row foreign-key triggers while loading (needs a superuser; else keep them)
        try:
            connection.execute("SET session_replication_role = replica")
        except psycopg.Error:
            connection.rollback()
        for item in captured:
            names = ", ".join(f'"{n}"' for n in item.rows[0])
            with connection.cursor().copy(f'COPY "{item.table.name}" ({names}) FROM STDIN') as copy:
                for ordinals, chunk in _chunks(indexes):
                    for values in _copies(item, by_name, ordinals, chunk):
                        copy.write_row(values)
        for item in captured:
            table = item.table.name
            connection.execute(
                f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
                f'(SELECT max(id) FROM "{table}"))'
            )
        connection.commit()
        connection.autocommit = True
        for item in captured:
            connection.execute(f'ANALYZE "{item.table.name}"')
