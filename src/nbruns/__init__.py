"""nbruns: LangGraph's double-texting run server, inside your Jupyter kernel.

Layout, importing one way only (tests/test_layering.py checks it):

- `_core/`     pure and synchronous: records, the run lifecycle, strategy
               decisions, the store. Standard library only.
- `_executor`  asyncio: carries the core's decisions out, owns every task.
- `_api`       HTTP routes mapped onto the executor (Starlette), shared by the
               in-process client (`_transport`) and `nbruns serve`.
- `_server`    the in-process server on its own loop thread; `get_client()`.
- views        frames and widgets read snapshots through the SDK client only.
"""

from ._server import Server, default_server, get_client, get_sync_client

__all__ = ["Server", "default_server", "get_client", "get_sync_client"]
