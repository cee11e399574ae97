"""nbruns's benchmarks, each run as a module from the repository root:

    python -m bench.inprocess [--quick]     # in-process, against plain graph.ainvoke
    python -m bench.served [--quick]        # nbruns serve against langgraph dev, over HTTP
    python -m bench.load --quick            # a load test of nbruns serve
    python -m bench.profile_inprocess       # profiles bench.inprocess's timed regions

Figures and how they were taken: docs/benchmarks.md.
"""
