"""Every GraphQL document the dashboard sends, each a named constant (and the one template the
command forms fill in). `tests/unit/dashboard/test_documents.py` parses and validates each
against `schema.graphql`, so a misspelt field fails a test instead of a page.

Reporting documents (gates, drift, command stats, provider events, COA, GL mappings) select every
scalar field of their type: the tables show every column the API has. The same test holds them
to that rule, so a field added to the API shows up there as a failing test, not as a silently
missing column. Nothing here is discovered at run time.
"""

from __future__ import annotations

PAGE_SIZE = 50
"""The page size every list document asks for (`first`)."""

# --- the command registry and the forms generated from it -----------------------------------

COMMANDS_QUERY = """
query Commands {
  commands {
    name title description group permission movesMoney allowed merchantField
    fields { name kind label required default choices currencyField allowZero help }
  }
}
"""

COMMAND_RESULT_SELECTION = """
    __typename
    ... on CommandSuccess {
      command status reference transactionId replayed data
      balances { account asset balanceMinor formatted }
    }
    ... on Error { code message details }
    ... on ValidationError { fieldErrors { path message } }
"""
"""What every registry mutation's result union is asked for (the result card)."""


def command_mutation(name: str, input_type: str | None) -> str:
    """The mutation of one registry command: `result: <name>(idempotencyKey, input?)`."""
    selection = COMMAND_RESULT_SELECTION
    if input_type is not None:
        return (
            f"mutation Run($key: String!, $input: {input_type}!) {{\n"
            f"  result: {name}(idempotencyKey: $key, input: $input) {{{selection}}}\n}}"
        )
    return (
        f"mutation Run($key: String!) {{\n"
        f"  result: {name}(idempotencyKey: $key) {{{selection}}}\n}}"
    )


# --- wallets, holds, transactions, the outbox -------------------------------------------------

PAGE_INFO = "totalCount pageInfo { hasNextPage endCursor }"
"""What every paged document asks besides its nodes: the true total and the next cursor."""

WALLETS_QUERY = f"""
query Wallets($merchantId: String, $merchantPrefix: String, $first: Int, $after: String) {{
  wallets(merchantId: $merchantId, merchantPrefix: $merchantPrefix, first: $first,
          after: $after) {{
    {PAGE_INFO}
    nodes {{
      merchantId currency asset
      balances {{ available {{ formatted }} holds {{ formatted }} reserve {{ formatted }}
                 total {{ formatted }} }}
    }}
  }}
}}
"""
MERCHANT_SUGGESTIONS_QUERY = """
query MerchantSuggestions($prefix: String!) {
  wallets(merchantPrefix: $prefix, first: 20) { nodes { merchantId } }
}
"""
WALLET_CURRENCIES_QUERY = "query Currencies { walletCurrencies }"

HOLD_FIELDS = "payoutId merchantId currency asset amountMinor provider state reason createdAt \
stateChangedAt formatted providerReference"
HOLDS_QUERY = f"""
query Holds($state: String, $merchantId: String, $olderThanS: Int, $first: Int, $after: String,
            $newestFirst: Boolean!) {{
  holds(state: $state, merchantId: $merchantId, olderThanS: $olderThanS, first: $first,
        after: $after, newestFirst: $newestFirst) {{
    {PAGE_INFO}
    nodes {{ {HOLD_FIELDS} }}
  }}
}}
"""
MANUAL_REVIEW_QUEUE_QUERY = f"""
query Queue($first: Int, $after: String, $newestFirst: Boolean!) {{
  manualReviewQueue(first: $first, after: $after, newestFirst: $newestFirst) {{
    {PAGE_INFO}
    nodes {{ {HOLD_FIELDS} }}
  }}
}}
"""
MANUAL_REVIEW_QUEUE_SUBSCRIPTION = f"subscription Queue {{ manualReviewQueue {{ {HOLD_FIELDS} }} }}"
HOLD_QUERY = f"""
query Hold($payoutId: String!) {{
  hold(payoutId: $payoutId) {{ {HOLD_FIELDS} destination ledgerBalanceMinor }}
}}
"""

TX_FIELDS = "id reference effectiveAt metadata postings { source destination asset amountMinor \
formatted }"
TRANSACTIONS_QUERY = f"""
query Recent($first: Int, $after: String, $account: String, $reference: String) {{
  transactions(first: $first, after: $after, account: $account, reference: $reference) {{
    {PAGE_INFO}
    nodes {{ {TX_FIELDS} }}
  }}
}}
"""
TRANSACTIONS_SUBSCRIPTION = f"subscription Tx {{ transactions {{ {TX_FIELDS} }} }}"
TRANSACTION_QUERY = """
query Transaction($id: BigInt!) {
  transaction(id: $id) {
    id reference effectiveAt insertedAt metadata reverted revertsTxId
    postings { source destination asset amountMinor formatted }
  }
}
"""
POSTINGS_QUERY = f"""
query Postings($account: String, $first: Int, $after: String) {{
  postings(account: $account, first: $first, after: $after) {{
    {PAGE_INFO}
    nodes {{ txId ordinal source destination asset amountMinor formatted effectiveAt }}
  }}
}}
"""
BALANCES_QUERY = """
query Balances($accounts: [String!], $prefix: String, $effectiveAt: DateTime) {
  balances(accounts: $accounts, prefix: $prefix, effectiveAt: $effectiveAt) {
    account asset balanceMinor formatted
  }
}
"""
SEARCH_QUERY = "query Search($text: String!) { search(text: $text) { kind id label } }"
FAILURES_BY_CODE_QUERY = """
query Failures($hour: Int!, $day: Int!) {
  hour: failuresByCode(windowS: $hour) { errorCode count lastAt lastCommand }
  day: failuresByCode(windowS: $day) { errorCode count lastAt lastCommand }
}
"""
FAILED_COMMANDS_QUERY = """
query Failed($windowS: Int!, $errorCode: String) {
  failedCommands(windowS: $windowS, errorCode: $errorCode, first: 100) {
    command errorCode actor idempotencyKey merchantId createdAt
  }
}
"""
ACCESS_LISTS_QUERY = "query AccessLists { accessLists { allowedEmails adminEmails source } }"

OUTBOX_QUERY = "query Outbox { outboxStatus { pendingCount oldestPendingAgeS } }"
# intervalS stays under the API's Redis socket timeout (5 s): a longer XREAD BLOCK times out.
OUTBOX_SUBSCRIPTION = (
    "subscription Outbox { outboxAge(intervalS: 3) { pendingCount oldestPendingAgeS } }"
)
EVENTS_SUBSCRIPTION = "subscription Events { events { eventId type merchantId payload } }"

# --- statements and reporting -----------------------------------------------------------------

STATEMENTS_QUERY = """
query S($merchantId: String!, $currency: String!, $first: Int, $after: String) {
  statements(merchantId: $merchantId, currency: $currency, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    nodes { txId address asset amountMinor balanceBeforeMinor balanceAfterMinor effectiveAt
            reference description }
  }
}
"""

TRIAL_BALANCE_QUERY = """
query TB {
  trialBalance {
    foots
    totals { asset debitMinor creditMinor netMinor foots }
    lines { asset code name accountClass normalBalance accounts debitMinor creditMinor
            balanceMinor abnormal }
  }
}
"""
ALM_QUERY = """
query Alm {
  alm {
    summaries { asset currency assetsMinor liabilitiesMinor netPositionMinor byClassMinor
                unmappedMinor }
    lines { asset currency accountClass code name balanceMinor }
  }
}
"""

GATE_FIELDS = "name ok detail checkedAt"
GATES_QUERY = f"query Gates {{ gates {{ {GATE_FIELDS} }} }}"
# The API re-runs the gates for each subscriber after events: at most every 2 s per feed.
GATES_SUBSCRIPTION = f"subscription G {{ gates(debounceMs: 2000) {{ {GATE_FIELDS} }} }}"

COA_DRIFT_QUERY = "query Drift { coaDrift { check subject detail } }"
COMMAND_STATS_QUERY = "query Stats { commandStats { since posted failed } }"
PROVIDER_EVENTS_QUERY = """
query ProviderEvents($first: Int!) {
  providerEvents(first: $first) {
    provider providerReference eventType eventId status deliveries receivedAt
  }
}
"""

COA_QUERY = """
query Coa { coa { code name kind accountClass normalBalance addressPattern mayGoNegative } }
"""
GL_MAPPINGS_QUERY = """
query Gl { glMappings { template leg sourceKind destinationKind debitCode creditCode description } }
"""

# --- controls and settings --------------------------------------------------------------------

TEMPLATES_QUERY = "query T { templates { name sha256 loaded loadedSha256 loadedAt } }"
FEATURE_FLAGS_QUERY = (
    "query F { featureFlags { scopeType scopeValue enabled updatedBy updatedAt } }"
)
API_KEYS_QUERY = (
    "query K { apiKeys { keyId role merchantId label createdBy createdAt expiresAt revokedAt } }"
)
CREATE_API_KEY_MUTATION = """
mutation CreateKey($role: String!, $merchantId: String, $label: String!) {
  createApiKey(role: $role, merchantId: $merchantId, label: $label) {
    __typename
    ... on CreatedApiKey { token key { keyId } }
    ... on Error { code message }
  }
}
"""
REVOKE_API_KEY_MUTATION = """
mutation Revoke($keyId: String!) {
  revokeApiKey(keyId: $keyId) { __typename ... on Error { code message } }
}
"""
