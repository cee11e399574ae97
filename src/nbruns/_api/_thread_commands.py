"""The SDK's thread stream (`client.threads.stream`, LangGraph's "protocol v2"), over SSE.

`POST /threads/{id}/commands` takes one command `{id, method, params}` and answers an
envelope: `{"type": "success", "id", "result", "meta": {"applied_through_seq"}}` or
`{"type": "error", "id", "error": <code>, "message"}` (status 200, as on the reference;
400 only for a body that is no command). `run.start` creates the thread if needed and
starts a normal run (its `multitaskStrategy`, default `enqueue`, is obeyed);
`input.respond` resumes an interrupt. Commands are stateless over HTTP, as on the
reference: subscriptions live in the event stream's body, so `subscription.*` and
`agent.getTree` answer as its stateless manager does.

`POST /threads/{id}/stream/events` takes `{channels, namespaces?, depth?, since?}` and
streams the thread's protocol events with `seq` above `since` (every one kept, then live;
`: heartbeat` comments while idle). It does not end by itself; the reader leaves.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict
from starlette.responses import Response, StreamingResponse
from typing_extensions import TypedDict

from .._core._errors import NbrunsError, NotFound
from .._core._types import NBRUNS_STRATEGIES
from .._engine import _serde
from .._engine._executor import RunSpec
from .._engine._protocol import CHANNELS, PROTOCOL_STREAM_MODES, ProtocolLog, logs_of
from ._declare import Api, Body, Call, Endpoints, Reply
from ._http import json_response, read_body
from ._shapes import StreamEvent
from ._sse import sse_frame

__all__ = [
    "EventFilter",
    "as_command",
    "channel_ok",
    "dispatch",
    "endpoint",
    "error",
    "logs",
    "subscription",
    "success",
]

endpoint = Endpoints("threads")

HEARTBEAT_SECONDS = 10.0
_ALLOWED = (
    "values, updates, messages, tools, custom, lifecycle, input, tasks, or any `custom:<name>`"
)


class ProtocolCommand(BaseModel):
    """One protocol command."""

    model_config = ConfigDict(extra="allow")
    id: int
    method: Literal[
        "run.start",
        "input.respond",
        "agent.getTree",
        "subscription.subscribe",
        "subscription.unsubscribe",
        "subscription.reconnect",
    ]
    params: dict[str, Any] = {}


class EventStreamRequest(BaseModel):
    """Which of the thread's protocol events to stream."""

    model_config = ConfigDict(extra="allow")
    channels: list[str]
    namespaces: list[list[str]] | None = None
    depth: int | None = None
    since: int | None = None


class CommandResponse(TypedDict, total=False):
    type: Literal["success", "error"]
    id: int | None
    result: dict[str, Any]
    meta: dict[str, Any]
    error: str
    message: str


def _raw(shape: Any) -> Body:
    return Body(shape, lambda raw: raw, required=True)


Envelope = dict[str, Any]


def error(cmd_id: Any, code: str, message: str) -> Envelope:
    return {"type": "error", "id": cmd_id, "error": code, "message": message}


def success(cmd_id: Any, result: dict[str, Any], applied_through: int = 0) -> Envelope:
    # over HTTP commands are stateless: nothing was applied through a session's seq
    meta = {"applied_through_seq": applied_through}
    return {"type": "success", "id": cmd_id, "result": result, "meta": meta}


def logs(api: Api) -> Any:
    ex = api.ex
    return logs_of(ex.thread_feeds, ex.store.runs.get, lambda tid: tid in ex.store.threads)


def channel_ok(channel: Any) -> bool:
    return isinstance(channel, str) and (channel in CHANNELS or channel.startswith("custom:"))


def as_command(payload: Any) -> Envelope | None:
    """None for a well-formed command, else the error envelope that refuses it."""
    cmd_id = payload.get("id") if isinstance(payload, dict) else None
    if (
        not isinstance(payload, dict)
        or not isinstance(cmd_id, int)
        or isinstance(cmd_id, bool)
        or not isinstance(payload.get("method"), str)
    ):
        message = "Protocol commands must include an integer id and string method."
        return error(cmd_id, "invalid_argument", message)
    return None


async def _json(api: Api, call: Call[Any, None]) -> Any:
    """The body as JSON (these endpoints read it themselves: their errors are envelopes),
    or the 400 answer for a body that is not JSON."""
    try:
        return _serde.loads(await read_body(call.request, api.max_body_bytes))
    except ValueError:
        return json_response({"detail": "Invalid JSON body"}, 400)


@endpoint(
    "POST",
    "/threads/{thread_id}/commands",
    "Send one command of the SDK's thread stream (`run.start`, `input.respond`, ...); the "
    "answer is a success or error envelope",
    ok=Reply("The command's envelope", CommandResponse),
    body=_raw(ProtocolCommand),
    errors=(400,),
)
async def command(api: Api, call: Call[Any, None]) -> Response:
    payload = await _json(api, call)
    if isinstance(payload, Response):
        return payload
    refused = as_command(payload)
    if refused is not None:  # an HTTP error: its `detail` too, as every nbruns error has
        return json_response({**refused, "detail": refused["message"]}, 400)
    return json_response(await dispatch(api, call.path["thread_id"], payload))


async def dispatch(api: Api, thread_id: str, payload: dict[str, Any]) -> Envelope:
    """The envelope answering one well-formed command (`subscription.*` as stateless)."""
    method, cmd_id = payload["method"], payload["id"]
    params = payload.get("params")
    params = params if isinstance(params, dict) else {}
    if method == "run.start":
        return await _run_start(api, thread_id, cmd_id, params)
    if method == "input.respond":
        return await _input_respond(api, thread_id, cmd_id, params)
    if method == "subscription.subscribe":
        channels = params.get("channels")
        if not isinstance(channels, list) or not channels:
            message = "subscription.subscribe requires a non-empty channels array."
            return error(cmd_id, "invalid_argument", message)
        if not all(channel_ok(c) for c in channels):
            message = "subscription.subscribe received an unsupported channel."
            return error(cmd_id, "invalid_argument", message)
        return success(cmd_id, {"subscription_id": str(uuid.uuid4()), "replayed_events": 0})
    if method == "subscription.unsubscribe":
        sub_id = params.get("subscription_id")
        if not isinstance(sub_id, str):
            message = "subscription.unsubscribe requires a subscription_id."
            return error(cmd_id, "invalid_argument", message)
        return error(cmd_id, "no_such_subscription", f"Unknown subscription: {sub_id}")
    if method in ("subscription.reconnect", "agent.getTree"):
        return error(cmd_id, "no_such_run", "No active run is bound to this thread.")
    return error(cmd_id, "unknown_command", f"Unknown protocol command: {method}")


def _strategy(params: dict[str, Any]) -> Any:
    given = params.get("multitaskStrategy", params.get("multitask_strategy"))
    # none (or a word nbruns does not know): the run's policy decides, else enqueue
    return given if given in NBRUNS_STRATEGIES else None


def _start(api: Api, thread_id: str, cmd_id: int, spec: RunSpec) -> Envelope | str:
    """The new run's id, or the error envelope that refused it."""
    try:
        run, _ = api.ex.create_run(thread_id, spec)
    except NbrunsError as exc:
        return error(cmd_id, "unknown_error", f"{exc.status_code}: {exc.detail}")
    # follow the thread from this run on (a reader connecting later replays it)
    logs(api).open(thread_id, api.ex.store.active_runs(thread_id))
    return run.run_id


async def _run_start(api: Api, thread_id: str, cmd_id: int, params: dict[str, Any]) -> Envelope:
    assistant_id = params.get("assistant_id")
    if not isinstance(assistant_id, str) or not assistant_id:
        return error(cmd_id, "invalid_argument", "run.start requires an assistant_id.")
    config = params.get("config")
    metadata = params.get("metadata")
    configurable = config.get("configurable") if isinstance(config, dict) else None
    checkpoint_id = configurable.get("checkpoint_id") if isinstance(configurable, dict) else None
    spec = RunSpec(
        assistant_id=assistant_id,
        input=params.get("input"),
        stream_mode=PROTOCOL_STREAM_MODES,
        metadata=metadata if isinstance(metadata, dict) else {},
        config=config if isinstance(config, dict) else {},
        checkpoint_id=checkpoint_id if isinstance(checkpoint_id, str) else None,
        multitask_strategy=_strategy(params),
        if_not_exists="create",
        on_completion="keep",
    )
    started = _start(api, thread_id, cmd_id, spec)
    return started if isinstance(started, dict) else success(cmd_id, {"run_id": started})


async def _input_respond(api: Api, thread_id: str, cmd_id: int, params: dict[str, Any]) -> Envelope:
    interrupt_id = params.get("interrupt_id")
    if not isinstance(interrupt_id, str) or not interrupt_id:
        return error(cmd_id, "invalid_argument", "input.respond requires an interrupt_id.")
    namespace = params.get("namespace", [])
    if not isinstance(namespace, list) or not all(isinstance(s, str) for s in namespace):
        message = "input.respond requires namespace to be a list of strings."
        return error(cmd_id, "invalid_argument", message)
    log = logs(api).get(thread_id)
    seen = log is not None and interrupt_id in log.pending_interrupts
    if not seen and not _pending_in_state(api, thread_id, interrupt_id):
        message = f"Unknown or already-consumed interrupt: {interrupt_id}"
        return error(cmd_id, "no_such_interrupt", message)
    thread = api.ex.store.threads.get(thread_id)
    if thread is None or thread.graph_id is None:
        return error(cmd_id, "no_such_run", "No interrupted run is bound to this thread.")
    resume: dict[str, Any] = {"resume": {interrupt_id: params.get("response")}}
    for key in ("update", "goto"):
        if params.get(key) is not None:
            resume[key] = params[key]
    config, metadata = params.get("config"), params.get("metadata")
    spec = RunSpec(
        assistant_id=thread.metadata.get("assistant_id") or thread.graph_id,
        command=resume,
        stream_mode=PROTOCOL_STREAM_MODES,
        metadata=metadata if isinstance(metadata, dict) else {},
        config=config if isinstance(config, dict) else {},
        on_completion="keep",
    )
    started = _start(api, thread_id, cmd_id, spec)
    if isinstance(started, dict):
        return started
    if log is not None:
        log.pending_interrupts.pop(interrupt_id, None)
    return success(cmd_id, {})


def _pending_in_state(api: Api, thread_id: str, interrupt_id: str) -> bool:
    """Whether the thread's state waits on that interrupt (as the reference checks),
    e.g. after a run started by `runs.create`, which the protocol log did not see."""
    thread = api.ex.store.threads.get(thread_id)
    if thread is None or api.ex.store.active_runs(thread_id):
        return False  # a run in flight will consume or replace it
    return any(
        isinstance(item, dict) and item.get("id") == interrupt_id
        for items in thread.head.interrupts.values()
        for item in items
    )


@endpoint(
    "POST",
    "/threads/{thread_id}/stream/events",
    "Stream the thread's protocol events (`lifecycle`, `values`, `messages`, "
    "`input.requested`) with `seq` above `since`: those kept, then live; it does not end "
    "by itself",
    ok=Reply("Server-sent events, `id:` the event's seq", StreamEvent, "text/event-stream"),
    body=_raw(EventStreamRequest),
    errors=(400, 404),
)
async def events(api: Api, call: Call[Any, None]) -> Response:
    body = await _json(api, call)
    if isinstance(body, Response):
        return body
    wanted = subscription(body)
    if isinstance(wanted, str):
        return json_response({"detail": wanted}, 400)
    thread_id = call.path["thread_id"]
    if thread_id not in api.ex.store.threads:
        raise NotFound(f"Thread {thread_id} not found.")
    log = logs(api).open(thread_id, api.ex.store.active_runs(thread_id))
    return StreamingResponse(_frames(log, wanted), media_type="text/event-stream")


def subscription(body: Any) -> EventFilter | str:
    """What a subscription body asks for, or why it cannot be served."""
    body = body if isinstance(body, dict) else {}
    channels = body.get("channels")
    if not isinstance(channels, list) or not channels:
        return "channels is required and must be a non-empty array"
    bad = [c if isinstance(c, str) else repr(c) for c in channels if not channel_ok(c)]
    if bad:
        return f"channels contains unsupported entries: {', '.join(bad[:5])}. Allowed: {_ALLOWED}."
    namespaces = body.get("namespaces")
    if not (
        isinstance(namespaces, list)
        and all(isinstance(ns, list) and all(isinstance(s, str) for s in ns) for ns in namespaces)
    ):
        namespaces = None
    depth = body.get("depth")
    if not isinstance(depth, int) or isinstance(depth, bool) or depth < 0:
        depth = None
    since = body.get("since")
    if not isinstance(since, int) or isinstance(since, bool) or since < 0:
        since = 0
    return EventFilter({_channel(c) for c in channels}, namespaces, depth, since)


def _channel(channel: str) -> str:
    return "custom" if channel.startswith("custom:") else channel


class EventFilter:
    """Which protocol events a subscription wants, from `since` on."""

    __slots__ = ("channels", "depth", "namespaces", "since")

    def __init__(self, channels: set[str], namespaces: Any, depth: int | None, since: int) -> None:
        self.channels, self.namespaces, self.depth = channels, namespaces, depth
        self.since = since

    def __call__(self, event: dict[str, Any]) -> bool:
        method = event["method"]
        channel = "input" if method.startswith("input.") else method
        if channel not in self.channels:
            return False
        ns: list[str] = event["params"]["namespace"]
        if self.namespaces is None:
            return self.depth is None or len(ns) <= self.depth
        return any(
            ns[: len(prefix)] == prefix
            and (self.depth is None or len(ns) - len(prefix) <= self.depth)
            for prefix in self.namespaces
        )


async def _frames(log: ProtocolLog, wanted: EventFilter) -> AsyncIterator[bytes]:
    seq = wanted.since
    while True:
        events = log.events_after(seq)
        if not events:
            before = seq
            await log.changed(seq, HEARTBEAT_SECONDS)
            if log.last_seq <= before:
                yield b": heartbeat\n\n"
            continue
        for event in events:
            seq = event["seq"]
            if wanted(event):
                yield sse_frame(event["method"], _serde.dumps(event), seq)
