"""Human in the loop: interrupt_before and interrupt()."""

from __future__ import annotations

from .._prober import Prober

KEY = "hitl"
TITLE = "Human in the loop: interrupt_before and interrupt()"
INTRO = (
    '`hitl` is a→b run with `interrupt_before=["b"]`; `dyn` calls '
    '`interrupt({"question": "ok?"})` in its only node `ask`.'
)


async def probe(p: Prober) -> None:
    await _interrupt_before_resume_none(p)
    await _interrupt_before_resume_command(p)
    await _interrupt_before_new_input(p)
    await _interrupt_after(p)
    await _dynamic(p)
    await _dynamic_resume_none(p)
    await _commands(p)


async def _snapshot(p: Prober, tid: str, rid: str, label: str) -> None:
    """The run's status, the thread, and the state's next/tasks/interrupts."""
    await p.call(
        KEY,
        f"{label}: run",
        "GET",
        f"/threads/{tid}/runs/{rid}",
        show=lambda b: {"status": b.get("status")} if isinstance(b, dict) else b,
    )
    await p.call(
        KEY,
        f"{label}: thread",
        "GET",
        f"/threads/{tid}",
        show=lambda b: {k: b.get(k) for k in ("status", "values", "interrupts", "error")},
    )
    await p.call(
        KEY,
        f"{label}: state",
        "GET",
        f"/threads/{tid}/state",
        show=lambda b: {k: b.get(k) for k in ("next", "tasks", "interrupts")},
    )


async def _interrupt_before_resume_none(p: Prober) -> None:
    t = await p.new_thread()
    r = await p.create_run(t, "hitl", input={}, interrupt_before=["b"])
    await p.call(KEY, "interrupt_before: join", "GET", f"/threads/{t}/runs/{r['run_id']}/join")
    await p.idle(t)
    await _snapshot(p, t, r["run_id"], "stopped before b")
    await p.call(KEY, "stopped before b: full state", "GET", f"/threads/{t}/state")
    r2 = await p.create_run(t, "hitl", input=None)
    await p.call(KEY, "resume input=None: join", "GET", f"/threads/{t}/runs/{r2['run_id']}/join")
    await p.idle(t)
    await _snapshot(p, t, r2["run_id"], "after resume input=None")


async def _interrupt_before_resume_command(p: Prober) -> None:
    t = await p.new_thread()
    r = await p.create_run(t, "hitl", input={}, interrupt_before=["b"])
    await p.client.runs.join(t, r["run_id"])
    await p.idle(t)
    r2 = await p.create_run(t, "hitl", command={"resume": "go"})
    await p.call(
        KEY, "resume command={resume}: join", "GET", f"/threads/{t}/runs/{r2['run_id']}/join"
    )
    await p.idle(t)
    await _snapshot(p, t, r2["run_id"], "after command resume")


async def _interrupt_before_new_input(p: Prober) -> None:
    t = await p.new_thread()
    r = await p.create_run(t, "hitl", input={}, interrupt_before=["b"])
    await p.client.runs.join(t, r["run_id"])
    await p.idle(t)
    r2 = await p.create_run(t, "hitl", input={"log": ["new"]})
    await p.call(
        KEY,
        "new input on an interrupted thread: join",
        "GET",
        f"/threads/{t}/runs/{r2['run_id']}/join",
        note="new input restarts from __start__ instead of resuming",
    )
    await p.idle(t)


async def _interrupt_after(p: Prober) -> None:
    t = await p.new_thread()
    r = await p.create_run(t, "hitl", input={}, interrupt_after=["a"])
    await p.call(KEY, "interrupt_after=[a]: join", "GET", f"/threads/{t}/runs/{r['run_id']}/join")
    await p.idle(t)
    await _snapshot(p, t, r["run_id"], "stopped after a")
    await p.call(
        KEY,
        "interrupt_before='*'",
        "POST",
        f"/threads/{t}/runs/wait",
        json_body={"assistant_id": "hitl", "input": {}, "interrupt_before": "*"},
    )


async def _dynamic(p: Prober) -> None:
    """A dynamic interrupt(): paused, through the SDK, resumed by command."""
    t = await p.new_thread()
    r = await p.create_run(t, "dyn", input={})
    await p.call(KEY, "dynamic interrupt(): join", "GET", f"/threads/{t}/runs/{r['run_id']}/join")
    await p.idle(t)
    await _snapshot(p, t, r["run_id"], "dynamic, paused")
    await p.call(KEY, "dynamic, paused: full state", "GET", f"/threads/{t}/state")
    await p.sdk(
        KEY,
        "dynamic: runs.wait (SDK)",
        "runs.wait(t, 'dyn', input={}) on a fresh thread",
        p.client.runs.wait(await p.new_thread(), "dyn", input={}),
    )
    r2 = await p.create_run(t, "dyn", command={"resume": "yes"})
    await p.call(
        KEY, "dynamic: resume command: join", "GET", f"/threads/{t}/runs/{r2['run_id']}/join"
    )
    await p.idle(t)
    await _snapshot(p, t, r2["run_id"], "dynamic, resumed")


async def _dynamic_resume_none(p: Prober) -> None:
    """Resume a dynamic interrupt with input=None."""
    t = await p.new_thread()
    await p.client.runs.wait(t, "dyn", input={})
    await p.idle(t)
    r2 = await p.create_run(t, "dyn", input=None)
    await p.call(
        KEY,
        "dynamic: resume with input=None: join",
        "GET",
        f"/threads/{t}/runs/{r2['run_id']}/join",
    )
    await p.idle(t)
    await p.call(
        KEY,
        "dynamic: after input=None: thread",
        "GET",
        f"/threads/{t}",
        show=lambda b: {k: b.get(k) for k in ("status", "interrupts")},
    )


async def _commands(p: Prober) -> None:
    """command.resume where nothing is interrupted, command.goto, input and command."""
    await p.call(
        KEY,
        "command.resume on a thread that is not interrupted",
        "POST",
        f"/threads/{await p.new_thread()}/runs/wait",
        json_body={"assistant_id": "slow", "command": {"resume": 1}},
    )
    await p.call(
        KEY,
        "command with goto",
        "POST",
        f"/threads/{await p.new_thread()}/runs/wait",
        json_body={"assistant_id": "slow", "command": {"goto": "c", "update": {"log": ["u"]}}},
    )
    tic = await p.new_thread()
    r = await p.call(
        KEY,
        "input and command together",
        "POST",
        f"/threads/{tic}/runs",
        json_body={"assistant_id": "slow", "input": {}, "command": {"resume": 1}},
        show=lambda b: {
            "status": b.get("status"),
            "kwargs.input": b["kwargs"]["input"],
            "kwargs.command": b["kwargs"]["command"],
        },
    )
    if r.status_code == 200:
        await p.call(
            KEY,
            "input and command together: join",
            "GET",
            f"/threads/{tic}/runs/{r.json()['run_id']}/join",
        )
        await p.idle(tic)
