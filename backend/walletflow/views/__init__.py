"""The read side (cosmicpython's views): plain SQL, or the ledger port, answering reads with
plain dataclasses, bypassing the domain. One module per read model, used alike by the GraphQL
resolvers (thin translations into GraphQL types), the `walletflow` command and the workers.

Every view takes a `Visibility` (`views/visibility.py`, the one rule of who reads what) and
applies it itself; views over the built-in ledger's own tables (postings, reporting) also take
the configured ledger backend and refuse another one (`views/ledger_backend.py`). Paged views
are keyset pages (`views/pages.py`), never OFFSET.
"""
