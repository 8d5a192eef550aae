"""schema.graphql at the repo root is exactly the schema the code serves."""

from __future__ import annotations

import difflib

from walletflow.entrypoints.graphql_schema import DEFAULT_SCHEMA_FILE, schema_sdl

REGENERATE = "regenerate it with: walletflow graphql export-schema --output schema.graphql"


def test_schema_graphql_matches_the_code() -> None:
    assert DEFAULT_SCHEMA_FILE.exists(), f"{DEFAULT_SCHEMA_FILE} is missing; {REGENERATE}"
    committed = DEFAULT_SCHEMA_FILE.read_text()
    current = schema_sdl()
    if committed != current:
        diff = "".join(
            difflib.unified_diff(
                committed.splitlines(keepends=True),
                current.splitlines(keepends=True),
                fromfile="schema.graphql (committed)",
                tofile="schema from the code",
                n=2,
            )
        )
        print(diff[:20_000])
        raise AssertionError(f"schema.graphql drifted from the code; {REGENERATE}\n{diff[:4000]}")
