"""Provides the fixture of the change snapshots: the demo app with fixed keys and a relative config directory."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from tests.fakes import Clock
from wgtui import keys
from wgtui.backends.demo import DemoBackend
from wgtui.ui.app import AppOptions, WgtuiApp


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[WgtuiApp, Clock]:
    """Keys generated from a counter and the config at `wg/` (the working directory is tmp_path): snapshots show the
    same keys and paths on every run."""
    counter = itertools.count(1)

    def keypair() -> tuple[str, str]:
        private = keys.b64(bytes([next(counter)]) * 32)
        return private, keys.public_key(private)

    monkeypatch.setattr(keys, "keypair", keypair)
    monkeypatch.chdir(tmp_path)  # the diff and the save path show "wg/wg0.conf", not a random tmp path
    Path("wg").mkdir()
    clock = Clock()
    backend = DemoBackend(40, seed=7, clock=clock, config_dir=Path("wg"))
    return WgtuiApp(backend, AppOptions(autostart=False, clock=clock, config_dir=Path("wg"))), clock
