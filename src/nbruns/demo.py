"""Offline, deterministic demo agent registered by nbruns as graph id ``"agent"``.

LangGraph's "double-texting" how-to drives an agent built from an Anthropic chat model
and the Tavily web-search tool. This module is a stand-in that needs no network and no
API keys: :class:`ScriptedWeatherModel` plays the model (first it asks the search tool
for the weather in the city the user mentioned, then it answers from the tool result),
and :data:`search_weather` plays Tavily with canned weatherapi.com-style results.
Message ids and tool-call ids are derived from hashes, so the same conversation always
produces the same ids. An input may carry ``"sleep": <seconds>`` to make that one run
slow, which is what the how-to uses to provoke double-texting.
"""

import ast
import asyncio
import hashlib
import json
import re
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    AnyMessage,
    BaseMessage,
    HumanMessage,
    ToolMessage,
)
from langchain_core.messages.tool import tool_call, tool_call_chunk
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.tools import tool
from langgraph.channels import EphemeralValue
from langgraph.graph import END, START, StateGraph
from langgraph.graph.message import add_messages
from langgraph.graph.state import CompiledStateGraph
from langgraph.prebuilt import ToolNode, tools_condition
from typing_extensions import TypedDict  # pydantic needs it for JSON schemas on 3.11

__all__ = ["AgentState", "ScriptedWeatherModel", "agent", "make_agent", "search_weather"]

TOOL_NAME = "tavily_search_results_json"
_NOW = datetime(2024, 6, 5, 19, 0, tzinfo=UTC)  # the frozen "current time" of every report
_CONDITIONS = {  # condition text -> (weatherapi code, icon number, cloud %)
    "Sunny": (1000, 113, 0),
    "Clear": (1000, 113, 0),
    "Partly cloudy": (1003, 116, 50),
    "Cloudy": (1006, 119, 75),
    "Overcast": (1009, 122, 100),
}
# key -> ((name, region, country, lat, lon), (tz_id, utc offset h, temp °C, condition,
#                                            wind kph, wind dir, humidity %))
_CITIES: dict[str, tuple[tuple[Any, ...], tuple[Any, ...]]] = {
    "san francisco": (
        ("San Francisco", "California", "United States of America", 37.78, -122.42),
        ("America/Los_Angeles", -7, 16.7, "Partly cloudy", 20.2, "W", 68),
    ),
    "new york": (
        ("New York", "New York", "United States of America", 40.71, -74.01),
        ("America/New_York", -4, 24.4, "Sunny", 13.0, "SW", 47),
    ),
    "london": (
        ("London", "City of London, Greater London", "United Kingdom", 51.52, -0.11),
        ("Europe/London", 1, 15.1, "Overcast", 15.1, "NE", 72),
    ),
    "paris": (
        ("Paris", "Ile-de-France", "France", 48.87, 2.33),
        ("Europe/Paris", 2, 19.2, "Clear", 9.0, "N", 60),
    ),
    "tokyo": (
        ("Tokyo", "Tokyo", "Japan", 35.69, 139.69),
        ("Asia/Tokyo", 9, 18.9, "Cloudy", 6.1, "E", 88),
    ),
    "berlin": (
        ("Berlin", "Berlin", "Germany", 52.52, 13.4),
        ("Europe/Berlin", 2, 17.8, "Partly cloudy", 11.2, "NW", 64),
    ),
}
_ALIASES = {
    "san francisco": r"\bsf\b|san\s+francisco",
    "new york": r"\bnyc\b|new\s+york",
    "london": r"\blondon\b",
    "paris": r"\bparis\b",
    "tokyo": r"\btokyo\b",
    "berlin": r"\bberlin\b",
}
_PREFIX = (  # question wording to strip off when the place is not a known city
    r"^\s*(?:(?:what|how)\s+about\s+|(?:(?:what'?s|what\s+is|how'?s|how\s+is)\s+)?"
    r"(?:the\s+)?(?:current\s+)?weather\s+(?:like\s+)?(?:in|for|at)\s+)"
)


def _place(text: str) -> str:
    """Turn a user question (or a tool query) into the place it asks about."""
    for key, pattern in _ALIASES.items():
        if re.search(pattern, text, re.IGNORECASE):
            return key
    return re.sub(_PREFIX, "", text, flags=re.IGNORECASE).strip(" \t\n?!.").lower() or "here"


def _report(place: str) -> dict[str, Any]:
    """Build a weatherapi.com-style report for ``place`` (canned; generic if unknown)."""
    default = ((place.title(), "", "", 0.0, 0.0), ("UTC", 0, 20.0, "Partly cloudy", 10.0, "S", 55))
    (name, region, country, lat, lon), weather = _CITIES.get(place, default)
    tz_id, offset, temp_c, condition, wind_kph, wind_dir, humidity = weather
    local, epoch = _NOW + timedelta(hours=offset), int(_NOW.timestamp())
    is_day = int(6 <= local.hour < 21)
    code, icon, cloud = _CONDITIONS[condition]
    icon_url = f"//cdn.weatherapi.com/weather/64x64/{('night', 'day')[is_day]}/{icon}.png"
    location = {"name": name, "region": region, "country": country, "lat": lat, "lon": lon}
    return {
        "location": location
        | {"tz_id": tz_id, "localtime_epoch": epoch, "localtime": f"{local:%Y-%m-%d %H:%M}"},
        "current": {
            "last_updated_epoch": epoch - 900,
            "last_updated": f"{local - timedelta(minutes=15):%Y-%m-%d %H:%M}",
            "temp_c": temp_c,
            "temp_f": round(temp_c * 9 / 5 + 32, 1),
            "is_day": is_day,
            "condition": {"text": condition, "icon": icon_url, "code": code},
            "wind_mph": round(wind_kph / 1.609, 1),
            "wind_kph": wind_kph,
            "wind_dir": wind_dir,
            "humidity": humidity,
            "cloud": cloud,
        },
    }


@tool(TOOL_NAME)
def search_weather(query: str) -> str:
    """Search the web for the current weather (offline: canned, deterministic results)."""
    content = str(_report(_place(query)))
    return json.dumps([{"url": "https://www.weatherapi.com/", "content": content}])


def _stable_id(prefix: str, *parts: object) -> str:
    """Deterministic id: ``prefix`` + 24 hex chars of a hash of ``parts``."""
    digest = hashlib.sha256("\x1f".join(map(str, (prefix, *parts))).encode()).hexdigest()
    return prefix + digest[:24]


def _answer(tool_output: str | list[Any]) -> str:
    """Phrase a final answer from the search tool's JSON output."""
    try:
        report = ast.literal_eval(json.loads(str(tool_output))[0]["content"])
        where, now = report["location"], report["current"]
        return (
            f"It's {now['temp_f']}°F ({now['temp_c']}°C) and "
            f"{now['condition']['text'].lower()} in {where['name']}."
        )
    except (ValueError, SyntaxError, TypeError, KeyError, IndexError):
        return "Sorry, I couldn't find the current weather for that place."


class ScriptedWeatherModel(BaseChatModel):
    """Chat model that scripts the how-to's search-then-answer agent turn, offline."""

    latency: float = 0.2

    @property
    def _llm_type(self) -> str:
        """Model type name used by LangChain tracing."""
        return "nbruns-scripted-weather"

    def bind_tools(
        self, tools: Sequence[Any], *, tool_choice: str | None = None, **kwargs: Any
    ) -> Runnable[LanguageModelInput, AIMessage]:
        """Accept tools as real models do; the script always uses the search tool."""
        return self

    def _reply(self, messages: list[BaseMessage]) -> AIMessage:
        """The scripted next message for the conversation ``messages``."""
        n = len(messages)
        if messages and isinstance(messages[-1], ToolMessage):
            text = _answer(messages[-1].content)
            return AIMessage(content=text, id=_stable_id("msg_", text, n))
        human = next((m for m in reversed(messages) if isinstance(m, HumanMessage)), None)
        query = f"weather in {_place(human.text if human else '')}"
        call_id = _stable_id("toolu_", query, n)
        block = {"id": call_id, "input": {"query": query}, "name": TOOL_NAME, "type": "tool_use"}
        return AIMessage(
            content=[block],
            tool_calls=[tool_call(name=TOOL_NAME, args={"query": query}, id=call_id)],
            id=_stable_id("msg_", query, n),
        )

    def _chunks(self, messages: list[BaseMessage]) -> Iterator[ChatGenerationChunk]:
        """Split the scripted reply into stream chunks: text word by word, a tool call whole."""
        reply = self._reply(messages)
        if reply.tool_calls:
            call = reply.tool_calls[0]
            args = json.dumps(call["args"])
            tcc = [tool_call_chunk(name=call["name"], args=args, id=call["id"], index=0)]
            pieces: list[dict[str, Any]] = [{"content": reply.content, "tool_call_chunks": tcc}]
        else:
            pieces = [{"content": word} for word in re.findall(r"\S+\s*", reply.text)]
        for i, piece in enumerate(pieces):
            last: Literal["last"] | None = "last" if i == len(pieces) - 1 else None
            chunk = AIMessageChunk(id=reply.id, chunk_position=last, **piece)
            yield ChatGenerationChunk(message=chunk)

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: Any = None,
        **kwargs: Any,
    ) -> ChatResult:
        """Think for ``latency`` seconds (blocking), then reply."""
        time.sleep(self.latency)
        return ChatResult(generations=[ChatGeneration(message=self._reply(messages))])

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: Any = None,
        **kwargs: Any,
    ) -> ChatResult:
        """Think for ``latency`` seconds (cancellable), then reply."""
        await asyncio.sleep(self.latency)
        return ChatResult(generations=[ChatGeneration(message=self._reply(messages))])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: Any = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        """Think for ``latency`` seconds (blocking), then stream the reply."""
        time.sleep(self.latency)
        yield from self._chunks(messages)

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: Any = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        """Think for ``latency`` seconds (cancellable), then stream the reply."""
        await asyncio.sleep(self.latency)
        for chunk in self._chunks(messages):
            yield chunk


class AgentState(TypedDict, total=False):
    """State of the demo agent: the conversation plus a one-run ``sleep`` knob."""

    messages: Annotated[list[AnyMessage], add_messages]
    sleep: Annotated[float, EphemeralValue(float)]


def make_agent(*, latency: float = 0.2) -> CompiledStateGraph[Any, Any, Any, Any]:
    """Compile the demo agent graph (no checkpointer; attach one with ``copy``)."""
    model = ScriptedWeatherModel(latency=latency).bind_tools([search_weather])

    async def call_model(state: AgentState) -> dict[str, list[AnyMessage]]:
        """Sleep if this run's input asked for it, then let the model reply."""
        if sleep := state.get("sleep"):
            await asyncio.sleep(sleep)
        return {"messages": [await model.ainvoke(state["messages"])]}

    builder = StateGraph(AgentState)
    builder.add_node("agent", call_model)
    builder.add_node("tools", ToolNode([search_weather]))
    builder.add_edge(START, "agent")
    builder.add_conditional_edges("agent", tools_condition, ["tools", END])
    builder.add_edge("tools", "agent")
    return builder.compile(name="agent")


agent = make_agent()
