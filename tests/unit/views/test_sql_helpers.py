"""LIKE prefix patterns: every character of the prefix is literal, `\\`, `%` and `_` included."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from walletflow.db.sql import LIKE_ESCAPE, like_escape, like_prefix


def like_matches(pattern: str, value: str) -> bool:
    """PostgreSQL's LIKE with ESCAPE '\\', written out as a regular expression."""
    parts: list[str] = []
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char == LIKE_ESCAPE:
            index += 1
            parts.append(re.escape(pattern[index]))
        elif char == "%":
            parts.append(".*")
        elif char == "_":
            parts.append(".")
        else:
            parts.append(re.escape(char))
        index += 1
    return re.fullmatch("".join(parts), value, flags=re.DOTALL) is not None


def test_wildcards_and_the_escape_character_are_escaped() -> None:
    assert like_escape("m_1") == "m\\_1"
    assert like_escape("100%") == "100\\%"
    assert like_escape("a\\b") == "a\\\\b"
    assert like_prefix("merchants:m_1:") == "merchants:m\\_1:%"


def test_an_underscore_in_an_id_does_not_match_another_character() -> None:
    assert like_matches(like_prefix("merchants:m_1:"), "merchants:m_1:NGN:available")
    assert not like_matches(like_prefix("merchants:m_1:"), "merchants:mx1:NGN:available")


@given(prefix=st.text(alphabet="ab_%\\:", max_size=8), rest=st.text(alphabet="ab_%\\:", max_size=8))
def test_a_prefix_pattern_matches_exactly_the_strings_that_start_with_it(
    prefix: str, rest: str
) -> None:
    value = prefix + rest
    assert like_matches(like_prefix(prefix), value)
    assert like_matches(like_prefix(prefix), rest) == rest.startswith(prefix)
