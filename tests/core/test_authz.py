"""The auth filter matcher: LangGraph's documented filter forms, and refusal of the rest."""

from __future__ import annotations

from typing import Any

import pytest

from nbruns._core._authz import InvalidFilter, check_filter, filter_matches

META = {"owner": "alice", "participants": ["alice", "bob"], "level": 2}


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (None, True),
        ({}, True),
        ({"owner": "alice"}, True),
        ({"owner": "bob"}, False),
        ({"owner": {"$eq": "alice"}}, True),
        ({"owner": {"$eq": "bob"}}, False),
        ({"missing": "x"}, False),
        ({"participants": {"$contains": "bob"}}, True),
        ({"participants": {"$contains": ["alice", "bob"]}}, True),
        ({"participants": {"$contains": ["alice", "carol"]}}, False),
        ({"owner": {"$contains": "a"}}, False),  # not a list: no containment
        ({"owner": "alice", "level": 2}, True),
        ({"owner": "alice", "level": 3}, False),
        ({"$or": [{"owner": "bob"}, {"level": 2}]}, True),
        ({"$or": [{"owner": "bob"}, {"level": 3}]}, False),
        ({"$and": [{"owner": "alice"}, {"level": 2}]}, True),
        ({"$and": [{"owner": "alice"}, {"level": 3}]}, False),
        ({"$or": [{"owner": "bob"}, {"level": 2}], "owner": "bob"}, False),
    ],
)
def test_filter_matches(filters: Any, expected: bool) -> None:
    if filters:
        check_filter(filters)
    assert filter_matches(META, filters) is expected


@pytest.mark.parametrize(
    "filters",
    [
        {"owner": {"$ne": "alice"}},  # an operator nbruns does not apply must not pass
        {"owner": {"$eq": "a", "$contains": "b"}},
        {"$or": [{"owner": "alice"}]},
        {"$and": "owner"},
        {"$not": {"owner": "alice"}},
        {"$or": [{"$or": [{"$or": [{"a": 1}, {"b": 2}]}, {"c": 3}]}, {"d": 4}]},
        ["owner"],
    ],
)
def test_filters_nbruns_cannot_apply_are_refused(filters: Any) -> None:
    with pytest.raises(InvalidFilter) as caught:
        check_filter(filters)
    assert caught.value.status_code == 403
    assert "invalid filter" in caught.value.detail
