"""The schema. Amounts are fixed-point BIGINTs (see domain.amounts), times are BIGINT Unix
milliseconds (UTC), JSON is stored as text. Every table carries `org` and `env`."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

Id = BigInteger().with_variant(Integer(), "sqlite")  # SQLite autoincrements INTEGER PRIMARY KEY


def _tenancy() -> list[Column[str]]:
    return [Column("org", String(64), nullable=False), Column("env", String(16), nullable=False)]


features = Table(
    "features",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    *_tenancy(),
    Column("feature_id", String(256), nullable=False),
    Column("name", Text),
    Column("type", String(32), nullable=False),
    Column("consumable", Boolean, nullable=False),
    Column("event_names", Text, nullable=False),  # JSON list
    Column("display", Text),  # JSON object
    Column("archived", Boolean, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    UniqueConstraint("org", "env", "feature_id"),
)

credit_costs = Table(
    "credit_costs",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    *_tenancy(),
    Column("credit_system_id", String(256), nullable=False),
    Column("metered_feature_id", String(256), nullable=False),
    Column("cost", BigInteger, nullable=False),
    Column("position", Integer, nullable=False),
    UniqueConstraint("org", "env", "credit_system_id", "metered_feature_id"),
    Index(None, "org", "env", "metered_feature_id"),
)

plans = Table(
    "plans",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    *_tenancy(),
    Column("plan_id", String(256), nullable=False),
    Column("version", Integer, nullable=False),
    Column("is_latest", Boolean, nullable=False),
    Column("name", Text),
    Column("description", Text),
    Column("plan_group", String(256)),
    Column("add_on", Boolean, nullable=False),
    Column("auto_enable", Boolean, nullable=False),
    Column("archived", Boolean, nullable=False),
    Column("metadata", Text, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("price", Text),  # JSON {amount, interval, interval_count}: the billing interval
    UniqueConstraint("org", "env", "plan_id", "version"),
)

plan_items = Table(
    "plan_items",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    *_tenancy(),
    Column("plan_internal_id", ForeignKey("plans.id"), nullable=False, index=True),
    Column("position", Integer, nullable=False),
    Column("feature_id", String(256), nullable=False),
    Column("included", BigInteger, nullable=False),
    Column("unlimited", Boolean, nullable=False),
    Column("reset_interval", String(16)),
    Column("interval_count", Integer, nullable=False),
    Column("extra", Text, nullable=False),  # JSON: price, rollover, ...
)

customers = Table(
    "customers",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    *_tenancy(),
    Column("customer_id", String(256), nullable=False),
    Column("name", Text),
    Column("email", Text),
    Column("fingerprint", Text),
    Column("metadata", Text, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("clock_at", BigInteger),  # sandbox test clock: the customer's frozen time
    UniqueConstraint("org", "env", "customer_id"),
)

customer_plans = Table(
    "customer_plans",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    *_tenancy(),
    Column("customer_internal_id", ForeignKey("customers.id"), nullable=False, index=True),
    Column("plan_internal_id", ForeignKey("plans.id"), nullable=False),
    Column("plan_id", String(256), nullable=False),
    Column("entity_internal_id", BigInteger),  # an entity-level attachment
    Column("status", String(16), nullable=False),  # active | expired
    Column("started_at", BigInteger, nullable=False),
    Column("ended_at", BigInteger),
)

grants = Table(
    "grants",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    *_tenancy(),
    Column("customer_internal_id", ForeignKey("customers.id"), nullable=False),
    Column("entity_internal_id", BigInteger),  # entity-level grants (HTTP API issue)
    Column("feature_id", String(256), nullable=False),
    Column("customer_plan_id", ForeignKey("customer_plans.id")),
    Column("plan_id", String(256)),
    Column("active", Boolean, nullable=False),
    Column("granted", BigInteger, nullable=False),
    Column("balance", BigInteger, nullable=False),
    Column("unlimited", Boolean, nullable=False),
    Column("reset_interval", String(16)),
    Column("interval_count", Integer, nullable=False),
    Column("anchor_at", BigInteger, nullable=False),
    Column("next_reset_at", BigInteger),
    Column("reset_index", Integer, nullable=False),
    Column("expires_at", BigInteger),
    Column("add_on", Boolean, nullable=False),
    Column("usage_allowed", Boolean, nullable=False),
    Column("floor", BigInteger),
    Column("created_at", BigInteger, nullable=False),
    Column("external_id", String(256)),  # the app's own `balance_id`
    Column("rollover", Text),  # JSON rollover rule of a grant that resets (domain.rollovers)
    Column("source_grant_id", BigInteger),  # a rollover grant: the grant it rolled over from
    Index(None, "org", "env", "customer_internal_id", "active"),
    UniqueConstraint("org", "env", "customer_internal_id", "external_id"),
    # a floor is 0 or -(allowed overage), NULL: none (DESIGN.md "Floors"). That the balance
    # stays above it is not a per-row rule (overflow, seats and manual adjustments may pass
    # it): the UPDATE in GrantStore.add_to_balances guards it.
    CheckConstraint("floor IS NULL OR floor <= 0", name="ck_grants_floor"),
)

events = Table(
    "events",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    *_tenancy(),
    Column("customer_internal_id", ForeignKey("customers.id"), nullable=False),
    Column("customer_id", String(256), nullable=False),
    Column("feature_id", String(256)),
    Column("event_name", String(256)),
    Column("value", BigInteger, nullable=False),
    Column("unapplied", BigInteger, nullable=False),
    Column("properties", Text, nullable=False),
    Column("timestamp", BigInteger, nullable=False),
    Column("idempotency_key", String(512)),
    Column("created_at", BigInteger, nullable=False),
    Column("reversed_at", BigInteger),  # set once by events.reverse
    UniqueConstraint("org", "env", "idempotency_key"),
    Index(None, "org", "env", "customer_id", "timestamp"),
)

entries = Table(
    "entries",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    *_tenancy(),
    Column("grant_id", ForeignKey("grants.id"), nullable=False, index=True),
    Column("event_id", ForeignKey("events.id")),
    Column("kind", String(16), nullable=False),  # grant, usage, refund, reset, rollover, ...
    Column("amount", BigInteger, nullable=False),  # signed change of the grant's balance
    Column("units", BigInteger),  # units of the tracked feature this entry covers
    Column("feature_id", String(256)),  # the tracked feature (usage/refund)
    Column("effective_at", BigInteger, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("note", Text),  # JSON {by, reason} of a manual change (balances.update/delete)
)

entities = Table(
    "entities",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    *_tenancy(),
    Column("customer_internal_id", ForeignKey("customers.id"), nullable=False),
    Column("entity_id", String(256), nullable=False),
    Column("name", Text),
    Column("feature_id", String(256)),
    Column("deleted", Boolean, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    UniqueConstraint("org", "env", "customer_internal_id", "entity_id"),
    Index(None, "org", "env", "entity_id"),
)

locks = Table(
    "locks",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    *_tenancy(),
    Column("lock_id", String(256), nullable=False),
    Column("customer_internal_id", ForeignKey("customers.id"), nullable=False),
    Column("entity_internal_id", BigInteger),
    Column("feature_id", String(256), nullable=False),
    Column("event_id", ForeignKey("events.id")),
    Column("value", BigInteger, nullable=False),
    Column("status", String(16), nullable=False),  # held | confirmed | released | expired
    Column("expires_at", BigInteger, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("finalized_at", BigInteger),
    UniqueConstraint("org", "env", "lock_id"),
    Index(None, "org", "env", "customer_internal_id", "status"),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    *_tenancy(),
    Column("kind", String(16), nullable=False),  # secret | publishable
    Column("key_hash", String(64), nullable=False, unique=True),  # sha256 hex of the key
    Column("prefix", String(32), nullable=False),  # shown in listings, never the whole key
    Column("revoked", Boolean, nullable=False),
    Column("created_at", BigInteger, nullable=False),
)

catalog_versions = Table(
    "catalog_versions",
    metadata,
    Column("org", String(64), primary_key=True),
    Column("env", String(16), primary_key=True),
    Column("version", BigInteger, nullable=False),
)
