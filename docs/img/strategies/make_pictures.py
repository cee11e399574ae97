"""Draw the timeline pictures of docs/strategies.md with `nbruns.compare` (real runs).

Run from the repository root: `python docs/img/strategies/make_pictures.py`. Each
picture is one `compare` of the demo agent (agent -> tools -> agent) on an in-process
server; step-boundary arrivals are held there, so the pictures show the same story
every time (only the timings move a little). It prints which pictures it wrote.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

import nbruns
import nbruns.demo
from nbruns.views._compare import compare
from nbruns.views._playground_setup import STRATEGIES

HERE = Path(__file__).resolve().parent
SF, NYC, LA = "whats the weather in sf?", "whats the weather in nyc?", "and in la?"
# the script of every strategy picture: a question, then two more while it is answered
THREE = [
    {"input": SF},
    {"after": "agent", "input": NYC},  # the model has asked for a tool
    {"after": "tools", "input": LA},  # the tool has answered
]


def slow(text: str, seconds: float) -> dict[str, Any]:
    return {"messages": [{"role": "human", "content": text}], "sleep": seconds}


PICTURES: dict[str, tuple[list[Any], list[Any]]] = {
    **{name: (THREE, [name]) for name in STRATEGIES},
    **{name: (THREE, [name]) for name in ("steer", "collect", "latest")},
    "debounce": (
        [{"input": SF}, {"at": 0.2, "input": NYC}, {"at": 0.4, "input": LA}],
        [{"label": "debounce", "strategy": "debounce", "quiet_s": 0.5, "max_wait_s": 3}],
    ),
    "max_pending": (
        THREE,
        [
            {"label": "reject_newest", "strategy": "enqueue", "max_pending": 1},
            {
                "label": "drop_oldest",
                "strategy": "enqueue",
                "max_pending": 1,
                "overflow": "drop_oldest",
            },
        ],
    ),
    "pending_ttl_s": (
        [{"input": slow(SF, 1.0)}, {"input": NYC}],
        [{"label": "pending_ttl_s", "strategy": "enqueue", "pending_ttl_s": 0.3}],
    ),
    "run_timeout_s": (
        [{"input": slow(SF, 2.0)}],
        [{"label": "run_timeout_s", "strategy": "enqueue", "run_timeout_s": 0.5}],
    ),
}


async def main(names: list[str]) -> None:
    server = nbruns.Server(graphs={"agent": nbruns.demo.make_agent(latency=0.1)})
    client = server.client()
    try:
        for name in names or list(PICTURES):
            script, strategies = PICTURES[name]
            try:
                result = await compare(client, script, strategies=strategies, width=720)
            except Exception as exc:  # a strategy the server does not have yet
                print(f"{name}: not drawn: {type(exc).__name__}: {exc}")  # noqa: T201
                continue
            result.timelines.save(HERE / f"{name}.svg")
            outcomes = result.outcomes.to_dict("list")
            print(f"{name}: {HERE / f'{name}.svg'} {outcomes}")  # noqa: T201
    finally:
        await client.aclose()
        server.close()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
