"""The API's GraphQL answers without the API: any document executed against `schema.graphql`
with a value of the right shape for every field it selects (graphql-core).

The answer has exactly the fields, nesting, nullability and wire scalars (BigInt as a string of
digits) the real API would send for that document, so a result dataclass that expects a field
its document does not select fails here, offline. The values themselves mean nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from graphql import (
    GraphQLAbstractType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLResolveInfo,
    GraphQLScalarType,
    GraphQLSchema,
    build_schema,
    graphql_sync,
)

SCHEMA_FILE = Path(__file__).resolve().parents[3] / "schema.graphql"
SCHEMA: GraphQLSchema = build_schema(SCHEMA_FILE.read_text())

SAMPLE_SCALARS: dict[str, Any] = {
    "String": "NGN/2",
    "ID": "id-1",
    "Int": 3,
    "Float": 1.5,
    "Boolean": True,
    "BigInt": "150025",
    "Amount": "1500.25",
    "DateTime": "2026-01-31T09:00:00+00:00",
    "JSON": {"k": 1},
}


def _sample(return_type: Any) -> Any:
    while isinstance(return_type, GraphQLNonNull):
        return_type = return_type.of_type
    if isinstance(return_type, GraphQLList):
        return [_sample(return_type.of_type)]
    if isinstance(return_type, GraphQLScalarType):
        return SAMPLE_SCALARS[return_type.name]
    if isinstance(return_type, GraphQLObjectType | GraphQLAbstractType):
        return {}  # its own fields are sampled in turn
    return None  # enums: none in this schema


def sample_field(source: Any, info: GraphQLResolveInfo, **args: Any) -> Any:
    return _sample(info.return_type)


def first_member(value: Any, info: GraphQLResolveInfo, abstract_type: Any) -> str:
    """A union or interface answers with its first member (CommandSuccess, CreatedApiKey, …)."""
    return str(info.schema.get_possible_types(abstract_type)[0].name)


def answer(document: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    result = graphql_sync(
        SCHEMA,
        document,
        variable_values=variables,
        field_resolver=sample_field,
        type_resolver=first_member,
    )
    assert not result.errors, result.errors
    assert result.data is not None
    return result.data


async def graphql(
    credential: Any, query: str, variables: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A drop-in for `walletflow_dashboard.api.graphql`."""
    return answer(query, variables)
