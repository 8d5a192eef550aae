"""Test support: where the real PostgreSQL and Redis for the suite come from."""
