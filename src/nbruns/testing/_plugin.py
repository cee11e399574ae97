"""nbruns's pytest plugin, loaded through the `pytest11` entry point once nbruns is installed.

Fixtures: `nbruns_server` (a fresh in-process `nbruns.Server` per test, always closed at
teardown), `nbruns_client` (its async SDK client), `nbruns_sync_client` and `nbruns_graphs`
(the graphs to serve: the `@pytest.mark.nbruns(graphs=...)` marker's, or override the
fixture). A test that passed but left a run pending or running, or a task of its own
alive on the server's loop (a node's `asyncio.create_task`, a stream left open), gets an
error at teardown naming them. Virtual time: `@pytest.mark.nbruns(clock="virtual")`,
`--nbruns-clock=virtual` or the ini option `nbruns_clock` (marker over option over ini).

The fixtures are sync (the server runs on its own loop thread), so they work under
pytest-asyncio, anyio or no async plugin at all: an `async def` test using them that no
other plugin claims is run here with `asyncio.run`.

pytest imports this module in every run where nbruns is installed, and with it the
packages around it (`nbruns`, `nbruns.testing`); the module itself adds only pytest, and
builds a server only when a fixture asks for one. `-p no:nbruns` turns the plugin off;
with `PYTEST_DISABLE_PLUGIN_AUTOLOAD` set, `-p nbruns.testing._plugin` turns it on.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Generator, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, cast

import pytest

if TYPE_CHECKING:
    from langgraph_sdk.client import LangGraphClient, SyncLangGraphClient

    from .._inprocess._server import Server

__all__ = [
    "nbruns_client",
    "nbruns_graphs",
    "nbruns_server",
    "nbruns_sync_client",
    "pytest_addoption",
    "pytest_configure",
    "pytest_pyfunc_call",
    "pytest_runtest_makereport",
]

Clock = Literal["real", "virtual"]
CLOCKS: tuple[Clock, ...] = ("real", "virtual")
MARKER_KEYS = ("graphs", "clock")
# tasks the engine starts and owns (its runs; the loop watch) are named so
_ENGINE_TASK_PREFIX = "nbruns-"
# wall seconds for requests and runs that just ended to finish their last steps before
# the check; above the in-process transport's 1 s grace for a closed stream
_SETTLE_S = 2.0
_RESPONSE_HELPER_PREFIX = "starlette."
_ASYNC_MARKERS = ("asyncio", "anyio", "trio")

_clock_key = pytest.StashKey[Clock]()
_call_passed_key = pytest.StashKey[bool]()


def _allowed() -> str:
    return ", ".join(map(repr, CLOCKS))


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("nbruns", "nbruns (in-process LangGraph server)")
    group.addoption(
        "--nbruns-clock",
        dest="nbruns_clock",
        default=None,
        metavar="CLOCK",
        help=f"the nbruns_server fixture's clock: {_allowed()} (default: the ini "
        "option nbruns_clock, else 'real'); @pytest.mark.nbruns(clock=...) wins",
    )
    parser.addini("nbruns_clock", f"the nbruns_server fixture's clock: {_allowed()}", default="")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "nbruns(graphs=None, clock=None): the graphs the nbruns_server fixture serves "
        f"(graph id -> graph) and its clock ({_allowed()})",
    )
    option = config.getoption("nbruns_clock")
    ini = str(config.getini("nbruns_clock") or "")
    if option is not None and option not in CLOCKS:
        raise pytest.UsageError(f"--nbruns-clock={option}: expected one of {_allowed()}")
    if ini and ini not in CLOCKS:
        raise pytest.UsageError(f"ini option nbruns_clock = {ini}: expected one of {_allowed()}")
    config.stash[_clock_key] = cast(Clock, option or ini or "real")


def _marker_settings(node: pytest.Item) -> dict[str, Any]:
    """The nbruns markers' settings, the closest marker winning for each key."""
    settings: dict[str, Any] = {}
    for marker in node.iter_markers("nbruns"):
        if marker.args:
            pytest.fail(
                f"@pytest.mark.nbruns takes keywords only ({', '.join(MARKER_KEYS)}), "
                f"got {marker.args!r}",
                pytrace=False,
            )
        unknown = sorted(set(marker.kwargs) - set(MARKER_KEYS))
        if unknown:
            pytest.fail(
                f"@pytest.mark.nbruns({', '.join(unknown)}=...): unknown; it takes "
                f"{', '.join(MARKER_KEYS)}",
                pytrace=False,
            )
        for key, value in marker.kwargs.items():
            settings.setdefault(key, value)
    return settings


def _clock_for(request: pytest.FixtureRequest) -> Clock:
    clock = _marker_settings(request.node).get("clock")
    if clock is None:
        return request.config.stash.get(_clock_key, "real")
    if clock not in CLOCKS:
        pytest.fail(
            f"@pytest.mark.nbruns(clock={clock!r}): expected one of {_allowed()}", pytrace=False
        )
    return cast(Clock, clock)


@pytest.fixture
def nbruns_graphs(request: pytest.FixtureRequest) -> Mapping[str, Any]:
    """Graph id -> graph for `nbruns_server`: the nbruns marker's `graphs=`, else none
    (the demo graph "agent" is always there). Override it to serve your own."""
    graphs = _marker_settings(request.node).get("graphs")
    if graphs is not None and not isinstance(graphs, Mapping):
        pytest.fail(
            "@pytest.mark.nbruns(graphs=...) takes a mapping of graph id -> graph, "
            f"got {type(graphs).__name__}",
            pytrace=False,
        )
    return graphs or {}


@pytest.fixture
def nbruns_server(
    request: pytest.FixtureRequest, nbruns_graphs: Mapping[str, Any]
) -> Iterator[Server]:
    """A fresh in-process nbruns server serving `nbruns_graphs`, closed at teardown.

    If the test passed but left a run pending or running, or a task of its own alive on
    the server's loop, teardown fails with a table of them (a test that failed is not
    checked: its failure says enough)."""
    from .._inprocess._server import Server

    server = Server(nbruns_graphs, clock=_clock_for(request))
    try:
        yield server
    finally:
        passed = request.node.stash.get(_call_passed_key, False)
        leftovers = _leftovers(server) if passed and not server.closed else ""
        server.close("the test ended")
    if leftovers:
        pytest.fail(leftovers, pytrace=False)


@pytest.fixture
def nbruns_client(nbruns_server: Server) -> LangGraphClient:
    """The async `langgraph_sdk` client of `nbruns_server` (usable on any event loop)."""
    return nbruns_server.client()


@pytest.fixture
def nbruns_sync_client(nbruns_server: Server) -> Iterator[SyncLangGraphClient]:
    """The sync `langgraph_sdk` client of `nbruns_server`."""
    client = nbruns_server.sync_client()
    yield client
    client.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    # a failed (or skipped) test often leaves runs going: its own report says enough,
    # so only a test that passed gets the leftovers check
    if report.when == "call":
        item.stash[_call_passed_key] = report.passed
    return report


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    """Run an `async def` test that uses nbruns and that no async plugin claims."""
    if not inspect.iscoroutinefunction(pyfuncitem.obj):
        return None  # pytest-asyncio, for one, swaps in a sync wrapper
    uses_nbruns = pyfuncitem.get_closest_marker("nbruns") is not None or any(
        name.startswith("nbruns_") for name in pyfuncitem.fixturenames
    )
    claimed = "anyio_backend" in pyfuncitem.funcargs or any(
        pyfuncitem.get_closest_marker(name) is not None for name in _ASYNC_MARKERS
    )
    if not uses_nbruns or claimed:
        return None
    funcargs = pyfuncitem.funcargs
    kwargs = {name: funcargs[name] for name in pyfuncitem._fixtureinfo.argnames}
    asyncio.run(pyfuncitem.obj(**kwargs))
    return True


# -- the teardown check ----------------------------------------------------------------


def _leftovers(server: Server) -> str:
    """What the test left going on `server`, as tables; "" when nothing."""
    host = server.loop_thread
    # a run the test awaited has ended by now: any still going was left so
    runs = host.call(_going_runs, server)
    # while runs go, the loop's other tasks may be their steps: check tasks once none is
    tasks = [] if runs else _tasks_after_settling(server)
    parts = []
    if runs:
        parts.append(
            f"nbruns: the test ended with {_count(len(runs), 'run')} still pending or "
            "running (join or cancel them, or await nbruns.testing.wait_idle(client)):\n"
            + _table(("run_id", "thread_id", "graph", "status"), runs)
        )
    if tasks:
        parts.append(
            f"nbruns: the test ended with {_count(len(tasks), 'task')} of its own still "
            "alive on the server's loop (a node's asyncio.create_task not awaited, or a "
            "stream left open):\n" + _table(("task", "coroutine", "at"), tasks)
        )
    return "\n\n".join(parts)


def _tasks_after_settling(server: Server) -> list[tuple[str, ...]]:
    host = server.loop_thread
    settling = host.submit(_settle())
    try:
        settling.result(timeout=_SETTLE_S)
    except TimeoutError:
        settling.cancel()
    return host.run(_foreign_tasks())


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


async def _settle() -> None:
    """Wait until the loop's tasks not owned by the engine are done (bounded by the
    caller); lets requests that just answered finish."""
    me = asyncio.current_task()
    others = [t for t in asyncio.all_tasks() if t is not me and not _engine_owned(t)]
    if others:
        await asyncio.wait(others)


def _engine_owned(task: asyncio.Task[Any]) -> bool:
    return task.get_name().startswith(_ENGINE_TASK_PREFIX)


def _going_runs(server: Server) -> list[tuple[str, ...]]:
    # read on the server's loop: the store is the engine's, touched only there
    runs = server.executor.store.runs.values()
    going = sorted((r for r in runs if r.phase in ("pending", "running")), key=lambda r: r.seq)
    return [(r.run_id, r.thread_id, r.graph_id, r.phase) for r in going]


async def _foreign_tasks() -> list[tuple[str, ...]]:
    me = asyncio.current_task()
    alive = [t for t in asyncio.all_tasks() if t is not me and not _engine_owned(t)]
    # a streaming response's own helper tasks: its request is listed already
    shown = [t for t in alive if not t.get_name().startswith(_RESPONSE_HELPER_PREFIX)]
    return [_describe(task) for task in sorted(shown, key=lambda t: t.get_name())]


def _describe(task: asyncio.Task[Any]) -> tuple[str, str, str]:
    coro = task.get_coro()
    frame = getattr(coro, "cr_frame", None)
    where = "" if frame is None else f"{frame.f_code.co_filename}:{frame.f_lineno}"
    what = getattr(coro, "__qualname__", repr(coro))
    # an SDK request still being served (a stream the test never closed): name it
    scope = getattr(None if frame is None else frame.f_locals.get("self"), "_scope", None)
    if isinstance(scope, Mapping) and "path" in scope:
        return (task.get_name(), f"{scope.get('method', '')} {scope['path']} still open", "")
    return (task.get_name(), what, where)


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    lines = [
        "  ".join(str(cell).ljust(w) for cell, w in zip(row, widths, strict=True))
        for row in [header, *rows]
    ]
    return "\n".join("  " + line.rstrip() for line in lines)
