"""`communique serve`: the HTTP API, the OpenAI-compatible endpoint and the web UI, in one FastAPI app.

`create_app(service)` (serve/api.py) builds the app; `run(service, host, port)` serves it with uvicorn.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastapi import FastAPI

    from communique.service import Communique

__all__ = ["create_app", "run"]


def create_app(service: Communique, warm_up: bool = True) -> FastAPI:
    from communique.serve.api import create_app as build

    return build(service, warm_up=warm_up)


def run(service: Communique, host: str = "127.0.0.1", port: int = 8000) -> None:
    """Serve until interrupted: one uvicorn worker; the store and embedder warm up in the background
    and /health answers 200 once they are loaded."""
    import uvicorn

    config = uvicorn.Config(create_app(service), host=host, port=port, workers=1, log_level="info",
                            timeout_graceful_shutdown=5, server_header=False)
    try:
        uvicorn.Server(config).run()
    finally:
        service.close()
