"""The runs part of the HTTP API: create, wait, stream, join, cancel, list."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from .._core._errors import Conflict, InvalidInput, NbrunsError
from .._core._lifecycle import ACTIVE
from .._engine import _serde
from .._engine._executor import NO_RUN_BODY, Executor, RunSpec
from ._http import ApiBase, json_response, query_action, query_bool, query_int
from ._requests import CancelMany, RunCreate, parse, refuse_nonfinite
from ._sse import sse_frame
from ._wire import run_json

__all__ = ["RunsApi"]

_HEARTBEAT_SECONDS = 5.0


class RunsApi(ApiBase):
    """Run endpoints; `_api._Api` adds the rest and `create_app` routes to both."""

    def _spec(self, b: RunCreate) -> RunSpec:
        if b.command is not None and b.input is not None:
            raise InvalidInput("Invalid run: pass either input or command, not both")
        checkpoint_id = b.checkpoint_id or (b.checkpoint or {}).get("checkpoint_id")
        return RunSpec(
            assistant_id=b.assistant_id,
            input=b.input,
            command=b.command.model_dump(exclude_none=True) if b.command else None,
            stream_mode=tuple(b.stream_mode),
            stream_subgraphs=b.stream_subgraphs,
            stream_resumable=b.stream_resumable,
            metadata=b.metadata or {},
            config=b.config or {},
            context=b.context,
            checkpoint_id=checkpoint_id,
            interrupt_before=b.interrupt_before,
            interrupt_after=b.interrupt_after,
            multitask_strategy=b.multitask_strategy or "enqueue",
            if_not_exists=b.if_not_exists or "reject",
            on_completion=b.on_completion or "delete",
            after_seconds=b.after_seconds or 0.0,
            durability=b.durability,
            feedback_keys=b.feedback_keys,
        )

    async def _parse_run(self, request: Request) -> tuple[str | None, RunCreate, RunSpec]:
        thread_id = request.path_params.get("tid")
        b = parse(RunCreate, await self.body(request), "run")
        return thread_id, b, self._spec(b)

    @staticmethod
    def _run_headers(thread_id: str, run_id: str, tail: str) -> dict[str, str]:
        base = f"/threads/{thread_id}/runs/{run_id}"
        return {"Location": base + tail, "Content-Location": base}

    async def run_create(self, request: Request) -> Response:
        thread_id, _, spec = await self._parse_run(request)
        run, _ = self.ex.create_run(thread_id, spec)
        return json_response(
            run_json(run),
            headers={"Content-Location": f"/threads/{run.thread_id}/runs/{run.run_id}"},
        )

    async def run_batch(self, request: Request) -> Response:
        body = await self.body(request) or b"[]"
        refuse_nonfinite(body, "run batch")
        try:
            raw = _serde.loads(body)
        except ValueError:
            raise InvalidInput(
                "Invalid run batch: the body is not valid JSON; send a JSON list of run payloads"
            ) from None
        if not isinstance(raw, list):
            raise InvalidInput("Invalid run batch: the body must be a JSON list of run payloads")
        specs = [
            self._spec(parse(RunCreate, _serde.dumps(item), f"run batch item {i}"))
            for i, item in enumerate(raw)
        ]
        # all or nothing: every item must be creatable before any run is created
        for spec in specs:
            self.ex.check_run(None, spec)
        return json_response([run_json(self.ex.create_run(None, s)[0]) for s in specs])

    async def run_wait(self, request: Request) -> Response:
        thread_id, b, spec = await self._parse_run(request)
        run, _ = self.ex.create_run(thread_id, spec)
        return await self._wait_response(
            run.thread_id,
            run.run_id,
            cancel_on_disconnect=b.on_disconnect == "cancel",
            headers=self._run_headers(run.thread_id, run.run_id, "/join"),
        )

    async def run_stream(self, request: Request) -> Response:
        thread_id, b, spec = await self._parse_run(request)
        run, reader = self.ex.create_run(thread_id, spec, stream_modes=set(spec.stream_mode))
        return StreamingResponse(
            self._sse(
                run.thread_id,
                run.run_id,
                reader,
                resumable=spec.stream_resumable,
                cancel_on_disconnect=b.on_disconnect == "cancel",
            ),
            media_type="text/event-stream",
            headers=self._run_headers(run.thread_id, run.run_id, "/stream"),
        )

    async def run_list(self, request: Request) -> Response:
        status = request.query_params.get("status")
        runs = self.ex.store.list_runs(
            request.path_params["tid"],
            limit=query_int(request, "limit", 10, minimum=1),
            offset=query_int(request, "offset", 0),
            status=status,
        )
        return json_response([run_json(r) for r in runs])

    async def run_get(self, request: Request) -> Response:
        run = self.ex.store.get_run(request.path_params["tid"], request.path_params["rid"])
        return json_response(run_json(run))

    async def run_delete(self, request: Request) -> Response:
        run = self.ex.store.get_run(request.path_params["tid"], request.path_params["rid"])
        if run.phase in ACTIVE:
            raise Conflict(
                f"Run {run.run_id} is still {run.phase}; cancel it (runs.cancel) before deleting it"
            )
        self.ex.store.forget_run(run.run_id)
        return Response(status_code=204)

    async def run_join(self, request: Request) -> Response:
        tid, rid = request.path_params["tid"], request.path_params["rid"]
        found = self.ex.store.find_run(rid)
        if found is None or found.thread_id != tid or self.ex.store.was_rolled_back(tid, rid):
            return json_response(NO_RUN_BODY)  # the reference answers 200 even for unknown runs
        if found.phase not in ACTIVE:
            return json_response(await self.ex.join(tid, rid))
        return await self._wait_response(tid, rid, cancel_on_disconnect=False)

    async def run_join_stream(self, request: Request) -> Response:
        tid, rid = request.path_params["tid"], request.path_params["rid"]
        # the SDK sends an empty stream_mode when none was chosen
        modes = [m for m in request.query_params.getlist("stream_mode") if m] or None
        last = request.headers.get("last-event-id")
        after = int(last) if last and last.isdigit() else None
        reader = self.ex.reader(tid, rid, set(modes) if modes else None, after)
        run = self.ex.store.get_run(tid, rid)
        return StreamingResponse(
            self._sse(
                tid,
                rid,
                reader,
                resumable=bool(run.kwargs.get("resumable")),
                cancel_on_disconnect=query_bool(request, "cancel_on_disconnect"),
                metadata=False,
            ),
            media_type="text/event-stream",
            headers=self._run_headers(tid, rid, "/stream"),
        )

    async def run_cancel(self, request: Request) -> Response:
        tid, rid = request.path_params["tid"], request.path_params["rid"]
        action = query_action(request)
        wait = query_bool(request, "wait")
        self.ex.cancel(tid, rid, action)
        if not wait:
            return Response(status_code=202)
        body, _ = await self.ex.outcome(rid)
        return json_response({} if body is NO_RUN_BODY else body)

    async def run_cancel_many(self, request: Request) -> Response:
        action = query_action(request)
        b = parse(CancelMany, await self.body(request), "cancel request")
        if b.run_ids is not None and b.status is not None:
            raise InvalidInput(
                "Invalid cancel request: pass run_ids (with thread_id) or status, not both"
            )
        self.ex.cancel_many(
            thread_id=b.thread_id, run_ids=b.run_ids, status=b.status, action=action
        )
        return Response(status_code=204)

    # -- bodies that wait ---------------------------------------------------

    async def _wait_response(
        self,
        thread_id: str,
        run_id: str,
        *,
        cancel_on_disconnect: bool,
        headers: Mapping[str, str] | None = None,
    ) -> Response:
        """The run's final body; a plain response when it comes within a heartbeat interval
        (the common case), else a streamed one that keeps the connection alive meanwhile."""
        join = self.ex.outcome_future(run_id)  # shared: wait on it, never cancel it
        if not cancel_on_disconnect:
            # waiting here cannot notice a disconnect, so only when nobody asked to
            done, _ = await asyncio.wait({join}, timeout=_HEARTBEAT_SECONDS)
            if done:
                return json_response(_final_body(*join.result()), headers=headers)
        return StreamingResponse(
            self._wait_body(thread_id, run_id, join, cancel_on_disconnect=cancel_on_disconnect),
            media_type="application/json",
            headers=headers,
        )

    async def _wait_body(
        self,
        thread_id: str,
        run_id: str,
        join: asyncio.Future[tuple[Any, Any]],
        *,
        cancel_on_disconnect: bool,
    ) -> AsyncIterator[bytes]:
        try:
            while True:
                done, _ = await asyncio.wait({join}, timeout=_HEARTBEAT_SECONDS)
                if done:
                    body = _final_body(*join.result())
                    yield body if isinstance(body, bytes) else _serde.dumps(body)
                    return
                yield b"\n"  # keeps proxies from timing out an idle response; JSON allows it
        finally:
            # the caller left before the run ended (the shared future stays untouched)
            if not join.done() and cancel_on_disconnect:
                _cancel_quietly(self.ex, thread_id, run_id)

    async def _sse(
        self,
        thread_id: str,
        run_id: str,
        reader: AsyncIterator[tuple[int, str, bytes]] | None,
        *,
        resumable: bool,
        cancel_on_disconnect: bool,
        metadata: bool = True,
    ) -> AsyncIterator[bytes]:
        finished = False
        try:
            if metadata:
                yield sse_frame("metadata", _serde.dumps({"run_id": run_id, "attempt": 1}))
            if reader is not None:
                async for event_id, event, data in reader:
                    yield sse_frame(event, data, event_id if resumable else None)
            finished = True
        finally:
            if reader is not None:
                await reader.aclose()  # type: ignore[attr-defined]
            if not finished and cancel_on_disconnect:
                _cancel_quietly(self.ex, thread_id, run_id)


def _final_body(body: Any, last_values: Any) -> Any:
    if body is NO_RUN_BODY:
        # rolled back under the caller: like the reference, answer with the last
        # values the run produced rather than an error
        return last_values if last_values is not None else {}
    return body


def _cancel_quietly(executor: Executor, thread_id: str, run_id: str) -> None:
    try:
        executor.cancel(thread_id, run_id, "interrupt")
    except NbrunsError:
        pass  # already finished: nothing to cancel
