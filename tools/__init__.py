"""Developer tools for working on nbruns; not part of the installed package.

Run from the repository root, as modules:

    python -m tools.reference_server --config DIR/langgraph.json --port 8124
    python -m tools.probe [--url URL] [--out FILE.md]

Tests import them as `tools.<module>` (pytest's `pythonpath = ["."]`), and so do the
benchmarks (`python -m bench.<name>`, run from the repository root).
"""
