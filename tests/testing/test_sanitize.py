"""The nbval sanitize rules shipped with nbruns: where they are, that each compiles, and
what they make of a sample of outputs."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from nbval.plugin import get_sanitize_patterns

import nbruns.testing
from nbruns.testing import SANITIZE_PATH
from nbruns.testing.__main__ import main

REPO_ROOT = Path(__file__).resolve().parents[2]


def _sanitize(text: str) -> str:
    for regex, replace in get_sanitize_patterns(Path(SANITIZE_PATH).read_text()):
        text = re.sub(regex, replace, text)
    return text


def test_the_path_is_an_absolute_file_in_the_package() -> None:
    path = Path(SANITIZE_PATH)
    assert path.is_absolute() and path.is_file()
    assert path.parent == Path(nbruns.testing.__file__).resolve().parent


def test_python_m_prints_the_path() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "nbruns.testing", "sanitize-path"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout == SANITIZE_PATH + "\n"


def test_anything_else_prints_the_usage(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert main(["sanitise-path"]) == 2
    assert capsys.readouterr().err.startswith("usage: python -m nbruns.testing sanitize-path")


def test_every_rule_compiles() -> None:
    shipped = get_sanitize_patterns(Path(SANITIZE_PATH).read_text())
    assert len(shipped) >= 9
    for regex, _ in shipped:
        re.compile(regex)


def test_a_sample_output_is_sanitized() -> None:
    sample = "\n".join(
        [
            "thread 1a2b3c4d-0000-4000-8000-00000000abcd run 5e6f7a8b",
            "AIMessage(id='lc_run--01a23f29-64d7-738b-908e-f2ba869c875d-0')",
            "created_at 2026-01-02T03:04:05.678901+00:00, pandas 2026-01-02 03:04:05.678+00:00",
            "queue_wait 0 days 00:00:01.234567, took 1.234 s, +0.5s, 12.5ms",
            "<Breakpoint at 0x7f3a2c1b9d50> toolu_01AbC msg_9xY",
            "call_abcdefghijklmnopqrstuvwx chatcmpl-9Qz3 call_model",
            "the weather at 2024-06-05 12:00 in sf",
        ]
    )
    assert _sanitize(sample).splitlines() == [
        "thread UUID run SHORTID",
        "AIMessage(id='lc_run--UUID-0')",
        "created_at TIMESTAMP, pandas TIMESTAMP",
        "queue_wait DURATION, took DURATION, DURATION, DURATION",
        "<Breakpoint at 0xADDRESS> toolu_ID msg_ID",
        "call_ID chatcmpl-ID call_model",
        "the weather at 2024-06-05 12:00 in sf",
    ]


def test_the_rules_are_package_data() -> None:
    pyproject = (REPO_ROOT / "pyproject.toml").read_text()
    assert '"nbruns.testing" = ["nbval-sanitize.cfg"]' in pyproject
