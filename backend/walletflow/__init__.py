"""walletflow: the core wallet of a payments company.

Balances are derived from immutable double-entry postings; every movement is idempotent forever.
"""

__version__ = "0.1.0"
