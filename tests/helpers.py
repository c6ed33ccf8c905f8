"""Kept for older imports: the catalog builders live in tests/catalogs.py."""

from __future__ import annotations

from tests.catalogs import pool_of, seed_catalog

__all__ = ["pool_of", "seed_catalog"]
