"""`wait_idle`: it returns once the threads' runs have all ended, waiting on the server;
at its (wall-clock) timeout it lists the runs still going. In process and against
`nbruns serve`; runs are held by breakpoints, never timed."""

from __future__ import annotations

import asyncio
import operator
from typing import Annotated, Any

import pytest
from langgraph.graph import END, START, StateGraph
from typing_extensions import TypedDict

import nbruns
from nbruns.testing import RunsStillGoing, pause, wait_idle
from nbruns.testing._idle import going_runs
from nbruns.testing._wall import wall_timeout
from nbruns.views._read import fetch_runs
from tests.helpers import Gates


async def _thread(client: Any) -> str:
    return str((await client.threads.create())["thread_id"])


async def _run(client: Any, tid: str, tag: str, **kwargs: Any) -> str:
    run = await client.runs.create(tid, "chain", input={"tag": tag, "log": [f"{tag}:in"]}, **kwargs)
    return str(run["run_id"])


def _noting_joins(client: Any, monkeypatch: pytest.MonkeyPatch) -> asyncio.Queue[str]:
    """The run ids `client.runs.join` is called with, in order; the real join still runs."""
    joins: asyncio.Queue[str] = asyncio.Queue()
    join = client.runs.join

    async def noted_join(thread_id: str, run_id: str, **kwargs: Any) -> Any:
        joins.put_nowait(run_id)
        return await join(thread_id, run_id, **kwargs)

    monkeypatch.setattr(client.runs, "join", noted_join)
    return joins


async def test_it_returns_at_once_when_nothing_goes(testing_client: Any) -> None:
    tid = await _thread(testing_client)
    await wait_idle(testing_client, tid, timeout=0)
    await wait_idle(testing_client, [tid], timeout=0)


async def test_it_waits_for_the_runs_of_every_thread(testing_client: Any) -> None:
    client = testing_client
    tids = [await _thread(client) for _ in range(2)]
    runs = [await _run(client, t, t[:4]) for t in tids for _ in range(2)]
    await wait_idle(client, timeout=10)  # every thread
    for i, run_id in enumerate(runs):
        assert (await client.runs.get(tids[i // 2], run_id))["status"] == "success"


async def test_it_waits_for_a_run_queued_while_it_waited(
    testing_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = testing_client
    tid = await _thread(client)
    bp = await pause(client, tid, before="c", times=1)
    first = await _run(client, tid, "first")
    await bp.reached(timeout=10)
    joins = _noting_joins(client, monkeypatch)
    waiting = asyncio.ensure_future(wait_idle(client, tid, timeout=10))
    assert await joins.get() == first  # it listed the runs, saw only `first`, joins it
    later = await pause(client, tid, before="a", new_runs_only=True, times=1)
    second = await _run(client, tid, "second", multitask_strategy="enqueue")
    await bp.release()
    assert (await later.reached(timeout=10)).run_id == second
    assert await joins.get() == second  # `first` ended: it looked again, and joins `second`
    assert not waiting.done()
    await later.release()
    await waiting
    assert (await client.runs.get(tid, second))["status"] == "success"


async def test_at_its_timeout_it_lists_the_runs_still_going(testing_client: Any) -> None:
    client = testing_client
    tid = await _thread(client)
    bp = await pause(client, tid, before="b", times=1)
    first = await _run(client, tid, "first")
    await bp.reached(timeout=10)
    second = await _run(client, tid, "second", multitask_strategy="enqueue")
    with pytest.raises(RunsStillGoing) as err:
        await wait_idle(client, tid, timeout=0.1)
    assert isinstance(err.value, TimeoutError)
    assert [r["run_id"] for r in err.value.runs] == [first, second]
    width = len(first)
    assert str(err.value).splitlines() == [
        "2 runs were still going after 0.1 s:",
        f"  {'run'.ljust(width)}  {'thread'.ljust(len(tid))}  status   strategy",
        f"  {first}  {tid}  running  enqueue   held before 'b': release the breakpoint",
        f"  {second}  {tid}  pending  enqueue",
    ]
    await bp.release()
    await wait_idle(client, tid, timeout=10)


def test_a_merged_run_goes_while_its_carrier_goes() -> None:
    runs = [
        {"run_id": "carrier", "status": "running", "merged_into": None},
        {"run_id": "merged", "status": "success", "merged_into": "carrier"},
        {"run_id": "done", "status": "success", "merged_into": None},
    ]
    assert [r["run_id"] for r in going_runs(runs)] == ["carrier", "merged"]
    runs[0]["status"] = "success"
    assert going_runs(runs) == []


def test_the_sync_client_is_refused_naming_get_client() -> None:
    client = nbruns.get_sync_client(graphs={})
    with pytest.raises(TypeError, match=r"wait_idle\(\) takes the async .* not the sync client"):
        wait_idle(client).send(None)


def test_its_timeout_is_the_wall_clocks_even_if_the_loops_clock_stands_still() -> None:
    loop = asyncio.new_event_loop()
    loop.time = lambda: 0.0  # type: ignore[method-assign]  # a loop whose clock never moves

    async def wait_forever() -> None:
        async with wall_timeout(0.05):
            await asyncio.Event().wait()

    try:
        with pytest.raises(TimeoutError):
            loop.run_until_complete(wait_forever())
    finally:
        loop.close()


async def test_a_cancel_from_elsewhere_stays_a_cancel() -> None:
    entered = asyncio.Event()

    async def wait_forever() -> None:
        async with wall_timeout(10):
            entered.set()
            await asyncio.Event().wait()

    task = asyncio.ensure_future(wait_forever())
    await entered.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


def _blocking_graph(gates: Gates) -> Any:
    """start (async) -> slow (sync, blocking its worker thread until the gate opens)."""

    class State(TypedDict, total=False):
        log: Annotated[list[str], operator.add]

    async def start(state: State) -> State:
        return {"log": ["start"]}

    def slow(state: State) -> State:
        gates["slow"].passage_sync()
        return {"log": ["slow"]}

    builder = StateGraph(State)
    builder.add_node("start", start)
    builder.add_node("slow", slow)
    builder.add_edge(START, "start")
    builder.add_edge("start", "slow")
    builder.add_edge("slow", END)
    return builder.compile()


@pytest.mark.parametrize(
    ("action", "status", "values"),
    [("rollback", "rolled_back", {}), ("interrupt", "interrupted", {"log": ["start"]})],
)
async def test_it_waits_for_a_stopped_run_to_finish_cleaning_up(
    monkeypatch: pytest.MonkeyPatch, action: str, status: str, values: dict[str, Any]
) -> None:
    gates = Gates()
    async with nbruns.Server(graphs={"slow": _blocking_graph(gates)}) as server:
        client = server.client()
        tid = await _thread(client)
        run_id = str((await client.runs.create(tid, "slow", input={"log": []}))["run_id"])
        await gates["slow"].reached()  # `start` is checkpointed; `slow` blocks a thread
        await client.runs.cancel(tid, run_id, wait=False, action=action)
        # its status reads as it will end at once, but its checkpoints are deleted (or
        # trimmed) only once the blocking node has returned: till then it is stopping
        listed = going_runs(await fetch_runs(client, [tid]))
        assert [(r["run_id"], r["status"], r["stopping"]) for r in listed] == [
            (run_id, status, True)
        ]
        joins = _noting_joins(client, monkeypatch)
        waiting = asyncio.ensure_future(wait_idle(client, tid, timeout=10))
        assert await joins.get() == run_id
        assert not waiting.done()  # its join answers once the run has stopped
        gates["slow"].open()
        await waiting
        assert (await client.threads.get_state(tid))["values"] == values
        [after] = await fetch_runs(client, [tid])
        assert (after["status"], after["stopping"]) == (status, False)
