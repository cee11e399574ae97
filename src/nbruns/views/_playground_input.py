"""How the Playground turns the text in its message box into a graph's input.

`Playground(client, graph=..., input=...)` takes `input=None` (built from the
graph's input schema), a dict (used as is, the text appended to its `messages`
if it has that key) or a function `input(text) -> dict`. The schema comes from
`client.assistants.get_schemas(graph)`, so any LangGraph server can answer it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["InputBuilder", "InputProblem", "InputSpec"]

InputSpec = Mapping[str, Any] | Callable[[str], Mapping[str, Any]] | None


class InputProblem(ValueError):
    """The text cannot become an input: the message says why and what to pass instead."""


def _properties(schema: Mapping[str, Any] | None) -> dict[str, Any]:
    props = (schema or {}).get("properties")
    return dict(props) if isinstance(props, Mapping) else {}


def _is_string(prop: Any) -> bool:
    if not isinstance(prop, Mapping):
        return False
    if prop.get("type") == "string":
        return True
    return any(_is_string(p) for p in prop.get("anyOf", ()) if p.get("type") != "null")


def _human(text: str) -> dict[str, str]:
    return {"role": "human", "content": text}


class InputBuilder:
    """Builds one run's input from the message text, the way `spec` and the schema say."""

    def __init__(
        self, spec: InputSpec, schema: Mapping[str, Any] | None, *, graph: str = "the graph"
    ) -> None:
        self.spec, self.graph = spec, graph
        self.keys = list(_properties(schema))
        self.has_sleep = "sleep" in self.keys
        strings = [k for k, p in _properties(schema).items() if _is_string(p)]
        self._string_key = strings[0] if len(strings) == 1 and "messages" not in self.keys else None

    @property
    def uses_text(self) -> bool:
        """Whether the text goes into the input (a dict without `messages` ignores it)."""
        return not (isinstance(self.spec, Mapping) and "messages" not in self.spec)

    def build(self, text: str, *, sleep: float = 0.0) -> dict[str, Any]:
        """The input for `text`; raises InputProblem when there is none to build."""
        if self.uses_text and not text.strip():
            raise InputProblem("empty message: nothing sent (type a message first)")
        payload = self._from_spec(text)
        if self.has_sleep and sleep and "sleep" not in payload:
            payload["sleep"] = float(sleep)  # the demo agent's knob: keeps the run busy
        return payload

    def _from_spec(self, text: str) -> dict[str, Any]:
        spec = self.spec
        if callable(spec):
            made = spec(text)
            if not isinstance(made, Mapping):
                raise InputProblem(f"input(text) must return a dict, got {type(made).__name__}")
            return dict(made)
        if isinstance(spec, Mapping):
            payload = dict(spec)
            if "messages" in payload:
                payload["messages"] = [*payload["messages"], _human(text)]
            return payload
        if "messages" in self.keys or not self.keys:  # no schema: the usual chat input
            return {"messages": [_human(text)]}
        if self._string_key is not None:
            return {self._string_key: text}
        raise InputProblem(
            f"{self.graph} takes {', '.join(self.keys)}: pass Playground(..., input={{...}}) "
            "or input=lambda text: {...}"
        )
