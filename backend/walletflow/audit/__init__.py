"""The audit trail: an append-only, hash-chained log of every action (see recorder.py, chain.py)."""
