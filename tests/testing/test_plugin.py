"""The pytest plugin, as a user meets it: pytest run in a subprocess on a fresh project.

The project is an ordinary test file with a small graph of the user's own, no conftest
and no nbruns test helpers; the plugin comes from nbruns's `pytest11` entry point, never
from `-p`. Each run writes a JUnit report, whose outcomes (and recorded properties) the
tests assert on. Runs are few: each costs a pytest start and an `import nbruns`.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path

import pytest

# a user's graph, with a node that naps for `nap` seconds, and one that leaks a task
GRAPHS = """
import asyncio
import operator
from typing import Annotated, TypedDict

from langgraph.graph import END, START, StateGraph


class State(TypedDict, total=False):
    steps: Annotated[list[str], operator.add]
    nap: float


async def plan(state: State) -> State:
    await asyncio.sleep(state.get("nap", 0))
    return {"steps": ["plan"]}


def act(state: State) -> State:
    return {"steps": ["act"]}


builder = StateGraph(State)
builder.add_node("plan", plan)
builder.add_node("act", act)
builder.add_edge(START, "plan")
builder.add_edge("plan", "act")
builder.add_edge("act", END)
graph = builder.compile()


async def spawn(state: State) -> State:
    asyncio.create_task(asyncio.sleep(3600), name="forgotten")
    return {"steps": ["spawn"]}


leaky_builder = StateGraph(State)
leaky_builder.add_node("spawn", spawn)
leaky_builder.add_edge(START, "spawn")
leaky = leaky_builder.compile()
"""

TEST_AGENT = """
import pytest
from nbruns.testing import pause

from my_graphs import graph, leaky

pytestmark = pytest.mark.nbruns(graphs={"mine": graph, "leaky": leaky})


async def test_a_run(nbruns_client):
    thread = await nbruns_client.threads.create()
    out = await nbruns_client.runs.wait(thread["thread_id"], "mine", input={"steps": []})
    assert out["steps"] == ["plan", "act"]


async def test_interrupt_while_held(nbruns_client):
    client = nbruns_client
    tid = (await client.threads.create())["thread_id"]
    async with await pause(client, tid, before="act", times=1) as bp:
        first = await client.runs.create(tid, "mine", input={"steps": []})
        await bp.reached()
        second = await client.runs.create(
            tid, "mine", input={"steps": []}, multitask_strategy="interrupt"
        )
    await client.runs.join(tid, second["run_id"])
    assert (await client.runs.get(tid, first["run_id"]))["status"] == "interrupted"
    state = await client.threads.get_state(tid)
    assert state["values"]["steps"] == ["plan", "plan", "act"]


@pytest.mark.nbruns(clock="virtual")
async def test_ten_minute_nap(nbruns_client, nbruns_server, record_property):
    tid = (await nbruns_client.threads.create())["thread_id"]
    out = await nbruns_client.runs.wait(tid, "mine", input={"steps": [], "nap": 600})
    assert out["steps"] == ["plan", "act"]
    record_property("skipped_s", nbruns_server.virtual_clock.skipped_s)


async def test_left_running(nbruns_client):
    tid = (await nbruns_client.threads.create())["thread_id"]
    await nbruns_client.runs.create(tid, "mine", input={"steps": [], "nap": 600})


async def test_fails_with_a_run_going(nbruns_client):
    tid = (await nbruns_client.threads.create())["thread_id"]
    await nbruns_client.runs.create(tid, "mine", input={"steps": [], "nap": 600})
    assert False, "my own failure"


async def test_leaked_task(nbruns_client):
    tid = (await nbruns_client.threads.create())["thread_id"]
    await nbruns_client.runs.wait(tid, "leaky", input={"steps": []})


@pytest.mark.nbruns(clock="sundial")
def test_bad_marker_clock(nbruns_server):
    pass

"""

# an async test that has nothing to do with nbruns
TEST_PLAIN = """
import asyncio


async def test_plain_async():
    await asyncio.sleep(0)
"""

TEST_OVERRIDE = """
import pytest
from langgraph.graph import END, START, StateGraph
from typing import TypedDict


class Count(TypedDict):
    n: int


def bump(state: Count) -> Count:
    return {"n": state["n"] + 1}


builder = StateGraph(Count)
builder.add_node("bump", bump)
builder.add_edge(START, "bump")
builder.add_edge("bump", END)


@pytest.fixture
def nbruns_graphs():
    return {"counter": builder.compile()}


def test_sync_client(nbruns_sync_client):
    tid = nbruns_sync_client.threads.create()["thread_id"]
    assert nbruns_sync_client.runs.wait(tid, "counter", input={"n": 41}) == {"n": 42}
"""

TEST_CLOCKS = """
import pytest

from my_graphs import graph

pytestmark = pytest.mark.nbruns(graphs={"mine": graph})


def nap(client, seconds):
    tid = client.threads.create()["thread_id"]
    return client.runs.wait(tid, "mine", input={"steps": [], "nap": seconds})


def test_configured_clock(nbruns_server, record_property):
    record_property("clock", nbruns_server.clock)


def test_nap_600(nbruns_server, nbruns_sync_client, record_property):
    assert nap(nbruns_sync_client, 600)["steps"] == ["plan", "act"]
    record_property("clock", nbruns_server.clock)
    record_property("skipped_s", nbruns_server.virtual_clock.skipped_s)


@pytest.mark.nbruns(clock="real")
def test_marker_real(nbruns_server, record_property):
    record_property("clock", nbruns_server.clock)


@pytest.mark.nbruns(clock="virtual")
def test_marker_virtual(nbruns_server, nbruns_sync_client, record_property):
    assert nap(nbruns_sync_client, 600)["steps"] == ["plan", "act"]
    record_property("clock", nbruns_server.clock)
    record_property("skipped_s", nbruns_server.virtual_clock.skipped_s)
"""

# a 600 s nap under virtual time: all of it skipped but the moments the loop was busy
SKIPPED_AT_LEAST = 590
NO_ASYNC_PLUGIN = ("-p", "no:asyncio", "-p", "no:anyio")
# plugins installed with the test extra that have nothing to do with this and take
# seconds to load: a user's project would not have them
UNRELATED = [
    f"-pno:{name}" for name in ("schemathesis", "hypothesispytest", "langsmith_plugin", "nbval")
]


@dataclass
class Outcome:
    status: str  # passed, failed, error, skipped
    message: str = ""
    properties: dict[str, str] = field(default_factory=dict)


@dataclass
class Session:
    returncode: int
    output: str
    outcomes: dict[str, Outcome]


def make_project(root: Path, ini: str = "") -> Path:
    (root / "my_graphs.py").write_text(textwrap.dedent(GRAPHS))
    (root / "test_agent.py").write_text(textwrap.dedent(TEST_AGENT))
    (root / "test_override.py").write_text(textwrap.dedent(TEST_OVERRIDE))
    (root / "test_clocks.py").write_text(textwrap.dedent(TEST_CLOCKS))
    (root / "test_plain.py").write_text(textwrap.dedent(TEST_PLAIN))
    (root / "pytest.ini").write_text("[pytest]\n" + ini)
    return root


def run_pytest(project: Path, *args: str, python: str = sys.executable) -> Session:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    report = project / "report.xml"
    report.unlink(missing_ok=True)
    # xunit1: the report keeps what tests record with `record_property`
    junit = (f"--junitxml={report}", "-o", "junit_family=xunit1")
    done = subprocess.run(
        [python, "-m", "pytest", "-p", "no:cacheprovider", *UNRELATED, *args, *junit],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = done.stdout + done.stderr
    outcomes = read_report(report) if report.exists() else {}
    return Session(done.returncode, output, outcomes)


def read_report(report: Path) -> dict[str, Outcome]:
    outcomes: dict[str, Outcome] = {}
    for case in ET.parse(report).getroot().iter("testcase"):
        name = f"{case.get('classname')}::{case.get('name')}"
        outcome = outcomes.setdefault(name, Outcome("passed"))
        outcome.properties.update(
            {p.get("name", ""): p.get("value", "") for p in case.iter("property")}
        )
        for status in ("failure", "error", "skipped"):
            for element in case.iter(status):
                outcome.status = "failed" if status == "failure" else status
                # the text is pytest's full report; the attribute only its first line
                outcome.message += (element.text or element.get("message") or "") + "\n"
    return outcomes


@pytest.fixture(scope="module")
def without_async_plugin(tmp_path_factory: pytest.TempPathFactory) -> Session:
    """The whole project, with no async plugin, its ini setting virtual time."""
    project = make_project(tmp_path_factory.mktemp("user_project"), "nbruns_clock = virtual\n")
    # strict: the plugin registers its marker and its ini option
    return run_pytest(project, *NO_ASYNC_PLUGIN, "--strict-markers", "--strict-config")


def test_the_plugin_comes_from_the_entry_point(without_async_plugin: Session) -> None:
    plugins = next(
        line for line in without_async_plugin.output.splitlines() if line.startswith("plugins:")
    )
    assert f"nbruns-{version('nbruns')}" in plugins
    assert "asyncio" not in plugins and "anyio" not in plugins


def test_fixtures_work_without_an_async_plugin(without_async_plugin: Session) -> None:
    outcomes = without_async_plugin.outcomes
    for name in ("test_a_run", "test_interrupt_while_held", "test_ten_minute_nap"):
        assert outcomes[f"test_agent::{name}"].status == "passed", outcomes[f"test_agent::{name}"]
    assert outcomes["test_override::test_sync_client"].status == "passed"
    # pytest's own refusal: the plugin runs only async tests that use nbruns
    plain = outcomes["test_plain::test_plain_async"]
    assert plain.status == "failed"
    assert "async def functions are not natively supported" in plain.message


def test_a_run_left_running_fails_at_teardown(without_async_plugin: Session) -> None:
    left = without_async_plugin.outcomes["test_agent::test_left_running"]
    assert left.status == "error"
    assert "the test ended with 1 run still pending or running" in left.message
    header, row = (line.split() for line in _table_after("run_id", left.message)[:2])
    assert header == ["run_id", "thread_id", "graph", "status"]
    assert row[2:] == ["mine", "running"]
    # the run's own steps are not reported as leaked tasks
    assert "still alive on the server's loop" not in left.message


def test_a_failed_test_is_not_checked_at_teardown(without_async_plugin: Session) -> None:
    failed = without_async_plugin.outcomes["test_agent::test_fails_with_a_run_going"]
    assert failed.status == "failed"
    assert "my own failure" in failed.message
    assert "nbruns:" not in failed.message


def test_a_leaked_task_fails_at_teardown(without_async_plugin: Session) -> None:
    leaked = without_async_plugin.outcomes["test_agent::test_leaked_task"]
    assert leaked.status == "error"
    assert "the test ended with 1 task of its own still alive" in leaked.message
    header, row = (line.split() for line in _table_after("task", leaked.message)[:2])
    assert header == ["task", "coroutine", "at"]
    assert row[:2] == ["forgotten", "sleep"]
    assert "pending or running" not in leaked.message


def test_a_bad_marker_clock_names_the_allowed_values(without_async_plugin: Session) -> None:
    bad = without_async_plugin.outcomes["test_agent::test_bad_marker_clock"]
    assert bad.status == "error"
    assert "@pytest.mark.nbruns(clock='sundial'): expected one of 'real', 'virtual'" in (
        bad.message
    )


def test_virtual_time_by_ini_and_marker(without_async_plugin: Session) -> None:
    outcomes = without_async_plugin.outcomes
    nap = outcomes["test_agent::test_ten_minute_nap"]
    assert float(nap.properties["skipped_s"]) > SKIPPED_AT_LEAST
    assert outcomes["test_clocks::test_configured_clock"].properties == {"clock": "virtual"}
    for name in ("nap_600", "marker_virtual"):
        napped = outcomes[f"test_clocks::test_{name}"]
        assert napped.status == "passed", napped
        assert napped.properties["clock"] == "virtual"
        assert float(napped.properties["skipped_s"]) > SKIPPED_AT_LEAST
    # the marker wins over the ini
    assert outcomes["test_clocks::test_marker_real"].properties == {"clock": "real"}


def test_under_pytest_asyncio_in_auto_mode(tmp_path: Path) -> None:
    project = make_project(tmp_path, ini="asyncio_mode = auto\n")
    only = ("-k", "not bad_marker and not nap_600 and not override")
    session = run_pytest(project, "-p", "no:anyio", *only)
    statuses = {name: outcome.status for name, outcome in session.outcomes.items()}
    assert statuses == {
        "test_agent::test_a_run": "passed",
        "test_agent::test_interrupt_while_held": "passed",
        "test_agent::test_ten_minute_nap": "passed",
        "test_agent::test_left_running": "error",
        "test_agent::test_leaked_task": "error",
        "test_agent::test_fails_with_a_run_going": "failed",
        "test_clocks::test_configured_clock": "passed",
        "test_clocks::test_marker_real": "passed",
        "test_clocks::test_marker_virtual": "passed",
        # pytest-asyncio runs a plain async test; the plugin leaves it be
        "test_plain::test_plain_async": "passed",
    }, session.output
    # with no option and no ini, the clock is real
    assert session.outcomes["test_clocks::test_configured_clock"].properties == {"clock": "real"}


def test_virtual_time_by_option(tmp_path: Path) -> None:
    project = make_project(tmp_path, ini="nbruns_clock = real\n")
    session = run_pytest(
        project, *NO_ASYNC_PLUGIN, "--nbruns-clock=virtual", "test_clocks.py", "-k", "not virtual"
    )
    clocks = {
        name.split("::test_")[1]: outcome.properties.get("clock")
        for name, outcome in session.outcomes.items()
    }
    # the option wins over the ini, and a marker over the option
    assert clocks == {"configured_clock": "virtual", "nap_600": "virtual", "marker_real": "real"}
    skipped = session.outcomes["test_clocks::test_nap_600"].properties["skipped_s"]
    assert float(skipped) > SKIPPED_AT_LEAST


@pytest.mark.parametrize(
    ("ini", "args", "message"),
    [
        ("", ("--nbruns-clock=fast",), "--nbruns-clock=fast: expected one of 'real', 'virtual'"),
        (
            "nbruns_clock = slow\n",
            (),
            "ini option nbruns_clock = slow: expected one of 'real', 'virtual'",
        ),
    ],
    ids=["option", "ini"],
)
def test_a_bad_clock_is_a_usage_error(
    tmp_path: Path, ini: str, args: tuple[str, ...], message: str
) -> None:
    project = make_project(tmp_path, ini=ini)
    session = run_pytest(project, *NO_ASYNC_PLUGIN, *args, "test_clocks.py")
    assert session.returncode == pytest.ExitCode.USAGE_ERROR, session.output
    assert f"ERROR: {message}" in session.output
    assert session.outcomes == {}


def _table_after(first_header: str, message: str) -> list[str]:
    """The lines of the table whose header starts with `first_header`."""
    lines = [line.strip() for line in message.splitlines()]
    start = next(i for i, line in enumerate(lines) if line.startswith(first_header + " "))
    return lines[start:]
