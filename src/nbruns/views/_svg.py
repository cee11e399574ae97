"""SVG text, written by hand: elements with escaped attributes and the shared <defs>.

Coordinates get at most one decimal so the same picture is always the same
text. `UID` stands for the ids inside `DEFS`; the caller replaces it with a
hash of the picture, so two pictures on one page never share ids by accident.
"""

from __future__ import annotations

import functools
from html import escape
from typing import Any

__all__ = [
    "ARROW",
    "DEFS",
    "FAINT",
    "GREY",
    "HATCH",
    "INK",
    "RED",
    "UID",
    "cross",
    "el",
    "line",
    "num",
    "rect",
    "start_tag",
    "text",
    "title",
]

INK, GREY, FAINT, RED = "#343a40", "#495057", "#868e96", "#e03131"
UID = "\x00uid\x00"
HATCH, ARROW = f"url(#{UID}-hatch)", f"url(#{UID}-arrow)"
DEFS = (
    f'<defs><pattern id="{UID}-hatch" width="5" height="5" patternUnits="userSpaceOnUse" '
    'patternTransform="rotate(45)"><line x1="0" y1="0" x2="0" y2="5" stroke="#495057" '
    'stroke-width="1.6" stroke-opacity="0.55"/></pattern>'
    f'<marker id="{UID}-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
    'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" '
    'fill="#343a40"/></marker></defs>'
)


def num(x: float) -> str:
    """A coordinate with at most one decimal: 12, 12.5."""
    text = f"{x:.1f}"
    if text.endswith(".0"):
        text = text[:-2]
    return "0" if text == "-0" else text


@functools.cache
def _attribute(key: str) -> str:
    return key.rstrip("_").replace("_", "-")


def start_tag(tag: str, **attrs: Any) -> str:
    """A start tag's text without `<`/`>`: `class_` -> class, `stroke_width` -> stroke-width."""
    pairs = [tag]
    for key, value in attrs.items():
        if value is None:  # None leaves the attribute out
            continue
        if isinstance(value, float):  # numbers need no escaping (most attributes)
            pairs.append(f'{_attribute(key)}="{num(value)}"')
        else:
            pairs.append(f'{_attribute(key)}="{escape(str(value))}"')
    return " ".join(pairs)


def el(tag: str, body: str = "", **attrs: Any) -> str:
    """An element; `body` is SVG text already (escape data with `text`/`title`)."""
    head = start_tag(tag, **attrs)
    return f"<{head}>{body}</{tag}>" if body else f"<{head}/>"


def rect(x: float, y: float, w: float, h: float, fill: str, **attrs: Any) -> str:
    return el("rect", x=float(x), y=float(y), width=float(w), height=float(h), fill=fill, **attrs)


def line(x1: float, y1: float, x2: float, y2: float, stroke: str, **attrs: Any) -> str:
    body = attrs.pop("body", "")
    return el(
        "line", body, x1=float(x1), y1=float(y1), x2=float(x2), y2=float(y2), stroke=stroke, **attrs
    )


def text(content: str, x: float, y: float, fill: str = INK, **attrs: Any) -> str:
    return el("text", escape(content), x=float(x), y=float(y), fill=fill, **attrs)


def title(content: str) -> str:
    """A tooltip for the element it is the first child of."""
    return el("title", escape(content))


def cross(x: float, y: float, tooltip: str, klass: str = "rejected") -> str:
    """A red ✕ centred on (x, y)."""
    d = f"M{num(x - 4)},{num(y - 4)} l8,8 m0,-8 l-8,8"
    path = el("path", d=d, stroke=RED, stroke_width=2.2, stroke_linecap="round")
    return el("g", title(tooltip) + path, class_=klass)
