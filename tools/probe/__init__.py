"""Drive the reference ``langgraph dev`` server and record what it answers.

Starts the reference server (``tools/reference_server.py``) on the probe graphs in
``tests/conformance/reference_app/``, sends it a fixed series of requests through the
official async SDK client and through raw ``httpx``, and writes the observations to
``docs/reference-observed.md``. From the repository root::

    python -m tools.probe                 # start a server, probe, write the doc
    python -m tools.probe --url URL       # probe a server already running
    python -m tools.probe --out FILE.md   # write elsewhere

uuids and timestamps are redacted to ``<uuid>`` / ``<ts>`` in the record; every key and
every level of nesting is kept.

Layout: ``_record`` (observations, sections, redaction), ``_prober`` (the session: raw,
SDK and SSE calls that record, and bounded waits), ``sections/`` (one module per section
of the document, in order), ``_render`` (the Markdown), ``__main__`` (the command line
and ``run_all``).
"""
