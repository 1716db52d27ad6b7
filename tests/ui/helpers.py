"""Provides deterministic app construction for UI tests: demo or fake backend, fixed clock, manual polls."""

from __future__ import annotations

from pathlib import Path

from tests.fakes import Clock
from wgtui.backends.base import Backend
from wgtui.backends.demo import DemoBackend
from wgtui.ui.app import AppOptions, WgtuiApp


def demo_app(tmp_path: Path, peers: int = 40, **options: object) -> tuple[WgtuiApp, Clock]:
    clock = Clock()
    backend = DemoBackend(peers, seed=7, clock=clock, config_dir=tmp_path)
    return app_for(backend, clock, config_dir=tmp_path, **options), clock


def app_for(backend: Backend, clock: Clock, **options: object) -> WgtuiApp:
    opts = AppOptions(autostart=False, clock=clock, **options)  # type: ignore[arg-type]
    return WgtuiApp(backend, opts)


def screen_text(app: WgtuiApp) -> str:
    """The rendered screen as plain text, line by line (what a user would read)."""
    import io

    from rich.console import Console

    width, height = app.size
    console = Console(width=width, height=height, record=True, force_terminal=False, color_system=None,
                      file=io.StringIO())
    lines = app.screen._compositor.render_update(full=True)
    console.print(lines)
    return console.export_text()
