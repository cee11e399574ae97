"""`Policy`: the multitask options, checked and merged (pure), and `decide` under them."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from nbruns._core._errors import InvalidInput
from nbruns._core._policy import Policy, effective_policy, policy_of
from nbruns._core._records import RunPhase, RunRecord
from nbruns._core._strategies import Enqueue, Reject, decide
from nbruns._core._types import NBRUNS_STRATEGIES

# -- building and checking -------------------------------------------------------------


def test_every_key_takes_a_good_value() -> None:
    policy = Policy(
        strategy="debounce",
        quiet_s=0,
        max_wait_s=2,
        max_pending=3,
        overflow="drop_oldest",
        pending_ttl_s=1.5,
        run_timeout_s=30,
    )
    assert policy.as_json() == {
        "strategy": "debounce",
        "quiet_s": 0.0,
        "max_wait_s": 2.0,
        "max_pending": 3,
        "overflow": "drop_oldest",
        "pending_ttl_s": 1.5,
        "run_timeout_s": 30.0,
    }
    # seconds are floats whatever number was given
    assert isinstance(policy.max_wait_s, float)


@pytest.mark.parametrize("strategy", NBRUNS_STRATEGIES)
def test_each_of_the_eight_strategies_is_a_strategy(strategy: str) -> None:
    assert Policy(strategy=strategy).strategy == strategy


BAD = [
    ("strategy", "bogus", ["'strategy'", "reject", "steer", "latest", "'bogus'"]),
    ("strategy", "Reject", ["'strategy'", "'Reject'"]),
    ("quiet_s", -1, ["'quiet_s'", "0 or more seconds", "-1"]),
    ("quiet_s", "1", ["'quiet_s'", "a number of seconds"]),
    ("max_wait_s", 0, ["'max_wait_s'", "more than 0 seconds"]),
    ("max_wait_s", float("inf"), ["'max_wait_s'", "a number of seconds"]),
    ("max_wait_s", True, ["'max_wait_s'", "a number of seconds"]),
    ("max_pending", 0, ["'max_pending'", "1 or more", "reject"]),
    ("max_pending", 1.5, ["'max_pending'", "whole number"]),
    ("max_pending", True, ["'max_pending'", "whole number"]),
    ("overflow", "drop_newest", ["'overflow'", "reject_newest", "drop_oldest"]),
    ("pending_ttl_s", 0, ["'pending_ttl_s'", "more than 0 seconds"]),
    ("pending_ttl_s", float("nan"), ["'pending_ttl_s'", "a number of seconds"]),
    ("run_timeout_s", -0.5, ["'run_timeout_s'", "more than 0 seconds"]),
    ("run_timeout_s", [1], ["'run_timeout_s'", "a number of seconds"]),
]


@pytest.mark.parametrize(("key", "value", "fragments"), BAD, ids=[f"{k}={v!r}" for k, v, _ in BAD])
def test_a_bad_value_names_the_key_and_what_is_allowed(
    key: str, value: Any, fragments: list[str]
) -> None:
    with pytest.raises(InvalidInput) as info:
        Policy(**{key: value})
    detail = str(info.value.detail)
    assert detail.startswith("Invalid policy: ")
    for fragment in fragments:
        assert fragment in detail, (fragment, detail)
    # and the same from JSON, naming where it came from
    with pytest.raises(InvalidInput) as info:
        Policy.from_json({key: value}, where="thread metadata.multitask")
    assert str(info.value.detail).startswith("Invalid thread metadata.multitask: ")
    assert f"'{key}'" in str(info.value.detail)


def test_an_unknown_key_is_refused_with_the_keys_listed() -> None:
    with pytest.raises(InvalidInput) as info:
        Policy.from_json({"max_queue": 2}, where="run metadata.multitask")
    detail = str(info.value.detail)
    assert detail.startswith("Invalid run metadata.multitask: unknown key 'max_queue'")
    for field in dataclasses.fields(Policy):
        assert field.name in detail


@pytest.mark.parametrize("value", [[], "enqueue", 3])
def test_a_policy_is_an_object(value: Any) -> None:
    with pytest.raises(InvalidInput, match=r"^Invalid assistant metadata\.multitask: expected"):
        policy_of({"multitask": value}, where="assistant")


def test_policy_of_metadata() -> None:
    assert policy_of(None, where="run") == Policy()
    assert policy_of({"other": 1}, where="run") == Policy()
    assert policy_of({"multitask": None}, where="run") == Policy()
    assert policy_of({"multitask": {"max_pending": 2}}, where="run") == Policy(max_pending=2)


def test_json_round_trip_and_metadata() -> None:
    policy = Policy(strategy="latest", pending_ttl_s=5)
    assert policy.as_metadata() == {"multitask": {"strategy": "latest", "pending_ttl_s": 5.0}}
    assert Policy.from_json(policy.as_json()) == policy
    assert policy_of(policy.as_metadata(), where="run") == policy
    assert Policy().as_json() == {}


def test_defaults_for_keys_no_level_sets() -> None:
    assert (Policy().quiet, Policy().max_wait, Policy().overflow_rule) == (
        1.0,
        10.0,
        "reject_newest",
    )
    assert Policy(quiet_s=0.25, max_wait_s=3, overflow="drop_oldest").quiet == 0.25


# -- three levels, key by key ----------------------------------------------------------


def test_the_most_specific_level_wins_key_by_key() -> None:
    call = {"multitask": {"strategy": "interrupt"}}
    thread = {"multitask": {"strategy": "reject", "max_pending": 2, "quiet_s": 0.5}}
    assistant = {"multitask": {"strategy": "latest", "max_pending": 5, "run_timeout_s": 9}}
    assert effective_policy(call, thread, assistant) == Policy(
        strategy="interrupt", max_pending=2, quiet_s=0.5, run_timeout_s=9
    )
    assert effective_policy(None, thread, assistant).strategy == "reject"
    assert effective_policy(None, None, assistant) == Policy(
        strategy="latest", max_pending=5, run_timeout_s=9
    )
    assert effective_policy(None, None, None) == Policy()


def test_merged_over_keeps_what_is_set() -> None:
    specific, general = Policy(max_pending=1), Policy(max_pending=4, overflow="drop_oldest")
    assert specific.merged_over(general) == Policy(max_pending=1, overflow="drop_oldest")
    assert Policy().merged_over(general) == general
    assert general.merged_over(Policy()) == general


def test_each_level_is_named_in_its_error() -> None:
    bad = {"multitask": {"overflow": "x"}}
    for where, args in (
        ("run", (bad, None, None)),
        ("thread", (None, bad, None)),
        ("assistant", (None, None, bad)),
    ):
        with pytest.raises(InvalidInput, match=rf"^Invalid {where} metadata\.multitask: "):
            effective_policy(*args)


# -- decide under a policy -------------------------------------------------------------


def run(run_id: str, phase: RunPhase, seq: int) -> RunRecord:
    return RunRecord(
        run_id=run_id,
        thread_id="t",
        assistant_id="a",
        graph_id="g",
        seq=seq,
        created_at=float(seq),
        updated_at=float(seq),
        scheduled_at=float(seq),
        phase=phase,
        multitask_strategy="latest",
    )


def test_latest_with_three_arrivals_keeps_only_the_newest_waiting() -> None:
    inflight = [run("R", "running", 1)]
    first = decide("latest", inflight, "L1")
    assert first == Enqueue(behind=("R",), replace=(), reason=first.reason)  # type: ignore[union-attr]
    inflight.append(run("L1", "pending", 2))
    second = decide("latest", inflight, "L2")
    assert isinstance(second, Enqueue)
    assert (second.behind, second.replace) == (("R",), ("L1",))
    assert second.reason == "replaced by run L2 (multitask_strategy=latest)"
    inflight = [inflight[0], run("L2", "pending", 3)]  # L1 ended
    third = decide("latest", inflight, "L3")
    assert isinstance(third, Enqueue)
    assert (third.behind, third.replace) == (("R",), ("L2",))


def test_latest_ignores_the_cap() -> None:
    # latest never lets more than one wait, so a cap of 1 never refuses it
    inflight = [run("R", "running", 1), run("P", "pending", 2)]
    decision = decide("latest", inflight, "NEW", Policy(max_pending=1))
    assert isinstance(decision, Enqueue) and decision.replace == ("P",)


def test_a_full_queue_rejects_the_newest() -> None:
    inflight = [run("R", "running", 1), run("P1", "pending", 2), run("P2", "pending", 3)]
    decision = decide("enqueue", inflight, "NEW", Policy(max_pending=2))
    assert isinstance(decision, Reject)
    assert "max_pending=2" in decision.detail and "reject_newest" in decision.detail
    # a running run does not count: one waiting of two allowed takes one more
    assert decide("enqueue", inflight[:2], "NEW", Policy(max_pending=2)) == Enqueue(
        behind=("R", "P1")
    )


def test_a_full_queue_drops_the_oldest_waiting() -> None:
    inflight = [run("R", "running", 1), run("P1", "pending", 2), run("P2", "pending", 3)]
    decision = decide("enqueue", inflight, "NEW", Policy(max_pending=2, overflow="drop_oldest"))
    assert isinstance(decision, Enqueue)
    assert (decision.behind, decision.drop) == (("R", "P2"), ("P1",))
    assert "NEW" in decision.reason and "max_pending" in decision.reason
    # a cap of 1 with two waiting (a cap lowered since): both oldest go
    lowered = decide("enqueue", inflight, "NEW", Policy(max_pending=1, overflow="drop_oldest"))
    assert isinstance(lowered, Enqueue) and lowered.drop == ("P1", "P2")
