"""The service fixtures live in tests/support/service_fixtures.py (registered suite-wide)."""

from tests.support.service_fixtures import Run

__all__ = ["Run"]
