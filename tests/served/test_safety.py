"""`nbruns serve` is safe by default: loopback only, api key on every route, no CORS,
bounded bodies, no route that loads code, and a clean Ctrl-C.

Every test starts real `nbruns serve` subprocesses (the `serve` fixture) on free
loopback ports and drives them with raw httpx and the official SDK client.
"""

from __future__ import annotations

import asyncio
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from nbruns._api import _requests
from nbruns._served._app import build_app, load_graphs

APP_CONFIG = Path(__file__).resolve().parent / "app" / "langgraph.json"
KEY = "s3cret-key"
SHUTDOWN_WITHIN = 10.0  # seconds a Ctrl-C'd server may take to exit
REGISTERED = {"agent", "reply", "slow"}


def route_table() -> list[tuple[str, str]]:
    """(method, path template) of every route the served app has."""
    app = build_app(load_graphs(APP_CONFIG))
    return sorted(
        (m, getattr(r, "path", ""))
        for r in app.routes
        for m in (getattr(r, "methods", None) or ())
        if m != "HEAD"
    )


def fill(path: str, ids: dict[str, str]) -> str:
    return (
        path.replace("{tid}", ids["tid"])
        .replace("{rid}", ids["rid"])
        .replace("{aid}", ids["aid"])
        .replace("{cid}", ids["cid"])
    )


def listening_addresses(port: int) -> set[str]:
    """Local addresses in LISTEN state on `port`, from /proc/net/tcp{,6}."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            local, state = fields[1], fields[3]
            address, hex_port = local.rsplit(":", 1)
            if state == "0A" and int(hex_port, 16) == port:
                found.add(address)
    return found


def outward_address() -> str | None:
    """This host's non-loopback IPv4 address, if it has one (no packet is sent)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("10.254.254.254", 1))
            address = s.getsockname()[0]
        except OSError:
            return None
    return None if address.startswith("127.") else str(address)


# -- binding ------------------------------------------------------------------------------


def test_default_host_is_loopback_in_help() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "nbruns", "serve", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    text = " ".join(out.split())  # argparse wraps lines
    match = re.search(r"--host HOST (.*?)(?: --|$)", text)
    assert match, out
    assert "default 127.0.0.1" in match.group(1), match.group(1)
    assert "0.0.0.0" not in out


def test_default_host_listens_on_loopback_only(serve: Any) -> None:
    served = serve()  # no --host
    assert httpx.get(served.url + "/ok").json()["ok"] is True
    addresses = listening_addresses(served.port)
    assert addresses == {"0100007F"}, f"listening on {addresses}; expected 127.0.0.1 only"
    outward = outward_address()
    if outward is not None:
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"http://{outward}:{served.port}/ok", timeout=2)


# -- api key ------------------------------------------------------------------------------


async def seed(client: Any) -> dict[str, str]:
    """A thread with a finished run, an assistant and a checkpoint id."""
    thread = await client.threads.create(metadata={"seed": True})
    tid = thread["thread_id"]
    created: list[Any] = []
    await client.runs.wait(tid, "reply", input={"messages": []}, on_run_created=created.append)
    assistant = await client.assistants.create("reply", name="seed")
    state = await client.threads.get_state(tid)
    return {
        "tid": tid,
        "rid": created[0]["run_id"],
        "aid": assistant["assistant_id"],
        "cid": state["checkpoint_id"],
    }


async def snapshot(client: Any, ids: dict[str, str]) -> dict[str, Any]:
    raw = client.http.client
    return {
        "threads": await client.threads.count(),
        "assistants": await client.assistants.count(),
        "thread": (await client.threads.get(ids["tid"]))["metadata"],
        "assistant": (await client.assistants.get(ids["aid"]))["metadata"],
        "runs": sorted(r["run_id"] for r in (await raw.get("/nbruns/runs")).json()),
        "history": len(await client.threads.get_history(ids["tid"], limit=100)),
    }


def body_for(method: str, path: str) -> Any:
    """A body that would change something if the route ran."""
    if method in ("GET", "DELETE"):
        return None
    if path.endswith("/runs/batch"):
        return [{"assistant_id": "reply", "input": {"messages": []}}]
    if "/runs" in path and not path.endswith("/cancel"):
        return {"assistant_id": "reply", "input": {"messages": []}, "if_not_exists": "create"}
    if path == "/assistants":
        return {"graph_id": "reply"}
    if path.endswith("/state"):
        return {"values": {"messages": [{"role": "human", "content": "x"}]}}
    if path.endswith("/cancel"):
        return {"status": "all"}
    return {"metadata": {"changed": True}}


async def test_api_key_guards_every_route(serve: Any, sdk: Any) -> None:
    served = serve("--api-key", KEY, ready_headers={"x-api-key": KEY})
    client = sdk(served.url, KEY)
    ids = await seed(client)
    before = await snapshot(client, ids)
    routes = route_table()
    assert len(routes) >= 40
    wrong_headers: list[dict[str, str]] = [
        {},
        {"x-api-key": "wrong"},
        {"x-api-key": ""},
        {"x-api-key": KEY.upper()},
        {"x-api-key": "x" + KEY},
        {"Authorization": f"Bearer {KEY}"},
    ]
    async with httpx.AsyncClient(base_url=served.url, timeout=10) as raw:
        for method, path in routes:
            body = body_for(method, path)
            for headers in wrong_headers:
                response = await raw.request(
                    method, fill(path, ids), json=body, headers=headers, params={"api_key": KEY}
                )
                where = f"{method} {path} with {headers}"
                assert response.status_code == 401, f"{where}: {response.status_code}"
                detail = response.json()["detail"]
                assert "x-api-key" in detail and "--api-key" in detail, (where, detail)
    assert await snapshot(client, ids) == before, "an unauthorised request changed something"

    # with the right key the official SDK works end to end
    thread = await client.threads.create()
    result = await client.runs.wait(thread["thread_id"], "reply", input={"messages": []})
    assert result["messages"][-1]["content"] == "ok"
    chunks = [
        c.event
        async for c in client.runs.stream(
            thread["thread_id"], "reply", input={"messages": []}, stream_mode="values"
        )
    ]
    assert chunks[0] == "metadata" and "values" in chunks
    assert await client.threads.count() == before["threads"] + 1


async def test_no_key_means_a_401_from_the_sdk_too(serve: Any, sdk: Any) -> None:
    from langgraph_sdk.errors import AuthenticationError

    served = serve("--api-key", KEY, ready_headers={"x-api-key": KEY})
    client = sdk(served.url, None)
    with pytest.raises(AuthenticationError) as excinfo:
        await client.threads.create()
    assert excinfo.value.response.status_code == 401
    authorised = sdk(served.url, KEY)
    assert await authorised.threads.count() == 0


# -- CORS ---------------------------------------------------------------------------------


def test_no_cors_headers_unless_asked(serve: Any) -> None:
    served = serve()
    origin = {"Origin": "https://evil.example"}
    preflight = httpx.options(
        served.url + "/threads",
        headers={
            **origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type,x-api-key",
        },
    )
    # refused, saying why; and without CORS headers the browser keeps it from the page
    assert preflight.status_code == 400, preflight.status_code
    assert "https://evil.example" in preflight.json()["detail"]
    responses = [
        preflight,
        httpx.get(served.url + "/ok", headers=origin),
        httpx.post(served.url + "/threads/search", json={}, headers=origin),
    ]
    for response in responses:
        cors = sorted(h for h in response.headers if h.lower().startswith("access-control-"))
        assert not cors, f"{response.request.method} {response.request.url}: {cors}"


# -- body size ----------------------------------------------------------------------------


async def test_bodies_over_the_limit_get_413_and_create_nothing(serve: Any, sdk: Any) -> None:
    limit = 2000
    served = serve("--max-body-bytes", str(limit))
    client = sdk(served.url, None)
    tid = (await client.threads.create())["thread_id"]
    big = {"padding": "x" * (limit * 2)}
    async with httpx.AsyncClient(base_url=served.url, timeout=10) as raw:
        cases = [
            ("POST", "/threads", {"metadata": big}),
            ("POST", "/assistants", {"graph_id": "reply", "metadata": big}),
            ("POST", f"/threads/{tid}/runs", {"assistant_id": "reply", "input": big}),
            ("POST", f"/threads/{tid}/runs/wait", {"assistant_id": "reply", "input": big}),
            ("POST", "/runs/batch", [{"assistant_id": "reply", "input": big}]),
            ("PATCH", f"/threads/{tid}", {"metadata": big}),
            ("POST", f"/threads/{tid}/state", {"values": big}),
        ]
        for method, path, body in cases:
            response = await raw.request(method, path, json=body)
            assert response.status_code == 413, (method, path, response.status_code)
            assert str(limit) in response.json()["detail"], response.json()

        # no Content-Length (chunked upload): the limit still holds
        async def chunks() -> Any:
            for _ in range(10):
                yield b" " * 500
            yield b'{"metadata": {}}'

        response = await raw.post("/threads", content=chunks())
        assert response.status_code == 413, response.text
        assert str(limit) in response.json()["detail"]
        # a lying Content-Length is no way around it either (raw socket: httpx refuses)
        status = lying_content_length(served.port, b'{"metadata": {"p": "' + b"x" * limit * 2)
        assert status in (400, 413, 422), status

        # at the limit is accepted
        exact = b'{"metadata": {"p": "' + b"x" * (limit - 23) + b'"}}'
        assert len(exact) == limit
        assert (await raw.post("/threads", content=exact)).status_code == 200

    assert await client.threads.count() == 2  # the first and the one at the limit
    assert await client.assistants.count() == len(REGISTERED)
    assert await client.runs.list(tid) == []
    assert (await client.threads.get(tid))["metadata"] == {}
    assert (await client.threads.get_state(tid))["checkpoint"] is None


def lying_content_length(port: int, body: bytes) -> int:
    """POST /threads declaring Content-Length 10 but sending `body`; the status line's code."""
    head = (
        f"POST /threads HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        "Content-Type: application/json\r\nContent-Length: 10\r\nConnection: close\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(head + body)
        first = s.recv(4096).split(b"\r\n", 1)[0]
    return int(first.split()[1])


# -- no code loading ----------------------------------------------------------------------

CODE_WORDS = {
    "module", "modules", "import", "file", "files", "code", "script", "source", "plugin",
    "load", "exec", "eval", "path", "spec", "package", "dependencies", "config_path",
}  # fmt: skip


def words(name: str) -> set[str]:
    return set(re.split(r"[^a-z0-9]+", name.lower())) - {""}


def test_no_route_or_request_field_names_code() -> None:
    """The route table and every request model: nothing takes a module, file or code."""
    for method, path in route_table():
        assert not words(path) & CODE_WORDS, f"{method} {path}"
    models = [
        getattr(_requests, name)
        for name in _requests.__all__
        if isinstance(getattr(_requests, name), type)
    ]
    assert len(models) >= 10
    for model in models:
        for name in model.model_fields:
            assert not words(name) & CODE_WORDS, f"{model.__name__}.{name}"


async def test_unknown_graphs_are_404_and_never_imported(
    serve: Any, sdk: Any, tmp_path: Path
) -> None:
    marker = tmp_path / "imported.txt"
    evil_dir = tmp_path / "evil"
    evil_dir.mkdir()
    (evil_dir / "evil_graph.py").write_text(
        f"open({str(marker)!r}, 'w').write('imported')\ngraph = None\n"
    )
    served = serve(extra_env={"PYTHONPATH": str(evil_dir)})
    client = sdk(served.url, None)
    attempts = [
        "evil_graph",
        "evil_graph:graph",
        f"{evil_dir / 'evil_graph.py'}:graph",
        "./evil_graph.py:graph",
        "os:system",
        "nbruns.demo:agent",
    ]
    async with httpx.AsyncClient(base_url=served.url, timeout=10) as raw:
        tid = (await client.threads.create())["thread_id"]
        for graph_id in attempts:
            response = await raw.post("/assistants", json={"graph_id": graph_id})
            assert response.status_code == 404, (graph_id, response.status_code)
            detail = response.json()["detail"]
            assert all(g in detail for g in REGISTERED), detail
            for path in ["/runs", f"/threads/{tid}/runs"]:
                response = await raw.post(path, json={"assistant_id": graph_id, "input": {}})
                assert response.status_code in (404, 422), (graph_id, path, response.status_code)
            response = await raw.post("/threads", json={"graph_id": graph_id})
            assert response.status_code in (200, 404, 422)
            response = await raw.patch(f"/assistants/{uuid.uuid4()}", json={"graph_id": graph_id})
            assert response.status_code in (404, 422)
        graphs = (await raw.get("/info")).json()["graphs"]
    assert set(graphs) == REGISTERED
    assert not marker.exists(), "a graph id made the server import a module"


# -- Ctrl-C -------------------------------------------------------------------------------


async def start_slow_run(client: Any) -> tuple[str, str]:
    tid = (await client.threads.create())["thread_id"]
    run = await client.runs.create(tid, "slow", input={"messages": []})
    deadline = time.monotonic() + 10
    while (await client.runs.get(tid, run["run_id"]))["status"] != "running":
        assert time.monotonic() < deadline, "the slow run never started"
        await asyncio.sleep(0.02)
    return tid, run["run_id"]


def sent_paths(client: Any) -> list[str]:
    """The paths of the requests `client` has finished writing to the server's socket, in
    order (from httpcore's trace): a path listed here has left the client, not just been
    scheduled."""
    sent: list[str] = []
    http = client.http.client

    async def trace_request(request: httpx.Request) -> None:
        async def trace(event: str, info: dict[str, Any]) -> None:
            if event == "http11.send_request_body.complete":
                sent.append(request.url.path)

        request.extensions["trace"] = trace

    hooks = http.event_hooks
    http.event_hooks = {**hooks, "request": [*hooks["request"], trace_request]}
    return sent


def assert_clean_exit(served: Any, took: float, sig: int = signal.SIGINT) -> None:
    # uvicorn re-raises the captured signal after its shutdown: 0 or "ended by that signal"
    assert served.proc.returncode in (0, -sig, 128 + sig), (
        served.proc.returncode,
        served.tail(),
    )
    assert took < SHUTDOWN_WITHIN
    log = served.log.read_text(errors="replace")
    assert "Traceback" not in log, log[-3000:]


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
async def test_ctrl_c_with_a_run_in_flight_exits_and_the_run_reads_interrupted(
    serve: Any, sdk: Any, tmp_path: Path, sig: int
) -> None:
    db = tmp_path / "nbruns.sqlite"
    served = serve("--db", str(db))
    client = sdk(served.url, None)
    tid, rid = await start_slow_run(client)
    queued = (await client.runs.create(tid, "reply", input={"messages": []}))["run_id"]
    took = served.stop(sig, within=SHUTDOWN_WITHIN)
    assert_clean_exit(served, took, sig)

    again = serve("--db", str(db))
    client = sdk(again.url, None)
    run = await client.runs.get(tid, rid)
    assert run["status"] == "interrupted", run
    assert "shut down" in (run["cancel_reason"] or ""), run["cancel_reason"]
    pending = await client.runs.get(tid, queued)
    assert pending["status"] == "interrupted", pending
    assert "shut down" in (pending["cancel_reason"] or "")
    thread = await client.threads.get(tid)
    assert thread["status"] != "busy"
    # the restarted server is fully usable on the same thread
    result = await client.runs.wait(tid, "reply", input={"messages": []})
    assert result["messages"][-1]["content"] == "ok"


@pytest.mark.parametrize("waiting", ["join", "wait", "stream"])
async def test_ctrl_c_while_a_client_waits_on_a_run_exits_in_time(
    serve: Any, sdk: Any, tmp_path: Path, waiting: str
) -> None:
    """A client blocked on join / runs.wait / runs.stream must not hold the server up:
    Ctrl-C interrupts the run, the client gets its answer, the process exits."""
    db = tmp_path / "nbruns.sqlite"
    served = serve("--db", str(db))
    client = sdk(served.url, None)
    sent = sent_paths(client)
    tid = (await client.threads.create())["thread_id"]
    created: list[Any] = []
    slow = {"input": {"messages": []}, "on_run_created": created.append}
    if waiting == "join":
        rid = (await client.runs.create(tid, "slow", input={"messages": []}))["run_id"]
        waiter = asyncio.ensure_future(client.runs.join(tid, rid))
    elif waiting == "wait":
        waiter = asyncio.ensure_future(client.runs.wait(tid, "slow", **slow))
    else:

        async def consume() -> list[str]:
            return [
                c.event async for c in client.runs.stream(tid, "slow", stream_mode="values", **slow)
            ]

        waiter = asyncio.ensure_future(consume())
    # The waiter's request (…/join, …/wait or …/stream) has been written to the server ...
    deadline = time.monotonic() + 10
    while not any(path.endswith("/" + waiting) for path in sent):
        assert time.monotonic() < deadline, f"the {waiting} request was never sent: {sent}"
        await asyncio.sleep(0.02)
    # ... and read by it once it has answered a request sent after it (one event loop reads
    # both connections); by then the run is running.
    while True:
        runs = await client.runs.list(tid)
        if runs and runs[0]["status"] == "running":
            rid = runs[0]["run_id"]
            break
        assert time.monotonic() < deadline, runs
        await asyncio.sleep(0.02)

    started = time.monotonic()
    stopping = asyncio.get_running_loop().run_in_executor(
        None, lambda: served.stop(signal.SIGINT, within=SHUTDOWN_WITHIN)
    )
    try:
        took = await stopping
    finally:
        # the server is gone (exited or killed): the waiter is done or soon will be
        await asyncio.wait({waiter}, timeout=5)
        waiter.cancel()
        answer = (await asyncio.gather(waiter, return_exceptions=True))[0]
    assert time.monotonic() - started < SHUTDOWN_WITHIN + 1
    assert_clean_exit(served, took)
    # the waiting client got a complete answer, not a cut connection or bare heartbeats
    assert not isinstance(answer, BaseException), repr(answer)
    if waiting == "stream":
        # ends with an error event naming the shutdown, so the SDK does not go off
        # reconnecting to a server that is gone
        assert answer[0] == "metadata" and answer[-1] == "error", answer

    again = serve("--db", str(db))

    client = sdk(again.url, None)
    run = await client.runs.get(tid, rid)
    assert run["status"] == "interrupted", run
    assert "shut down" in (run["cancel_reason"] or "")
