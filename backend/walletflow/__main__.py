"""`python -m walletflow` is the `walletflow` command."""

from walletflow.cli import run

run()
