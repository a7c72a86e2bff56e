"""Audit tests run on both backends with the storage fixtures."""

from __future__ import annotations

from tests.integration.storage.conftest import backend, postgres, stack

__all__ = ["backend", "postgres", "stack"]
