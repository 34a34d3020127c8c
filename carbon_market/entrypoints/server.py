"""Running the app under gunicorn from Python (``carbon-market serve``)."""

from __future__ import annotations

from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication


class _Gunicorn(BaseApplication):  # type: ignore[misc]
    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        from carbon_market.entrypoints.app import create_app

        return create_app()


def run_gunicorn(bind: str, workers: int) -> None:
    _Gunicorn({"bind": bind, "workers": workers, "accesslog": "-", "timeout": 120}).run()
