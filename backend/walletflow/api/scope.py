"""Keys the API keeps in an ASGI request's scope (one place, imported by whoever reads them)."""

PRINCIPAL_SCOPE_KEY = "walletflow.principal"
"""The authenticated Principal, set by the GraphQL auth gate before the request is served."""
