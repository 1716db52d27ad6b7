"""Writes the README's screenshots (SVG) from the demo backend: dashboard, detail, help, add form, a diff preview, and
the fleet view over a fake fleet (`python scripts/screenshots.py fleet` writes only that one)."""

from __future__ import annotations

import asyncio
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from wgtui.backends.demo import DemoBackend  # noqa: E402
from wgtui.ui.app import AppOptions, WgtuiApp  # noqa: E402

OUT = ROOT / "screenshots"
START = 1_800_000_000.0
CLIENT_KEY = "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg="
"""A client's own public key, pasted into the add form (the screenshot shows the form's state as text)."""


class SteppedClock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> float:
        return self.now


async def shoot(name: str, keys: list[str], size: tuple[int, int]) -> Path:
    clock = SteppedClock()
    # A fixed directory: its path shows in the diff preview, and screenshots should not change from run to run.
    config_dir = Path(tempfile.gettempdir()) / "wgtui-screenshots" / "wireguard"
    shutil.rmtree(config_dir, ignore_errors=True)
    config_dir.mkdir(parents=True)
    backend = DemoBackend(40, seed=7, clock=clock, config_dir=config_dir)
    app = WgtuiApp(backend, AppOptions(autostart=False, clock=clock, config_dir=config_dir))
    async with app.run_test(size=size) as pilot:
        # Five minutes of one-second polls, so that rates and sparklines have something to show.
        for _ in range(300):
            app.poll_now()
            clock.now += 1
        await pilot.pause()
        for key in keys:
            await pilot.press(key)
            await pilot.pause(0.3)  # change flows plan in thread workers
        await pilot.pause()
        path = OUT / f"{name}.svg"
        app.save_screenshot(filename=path.name, path=str(OUT))
    shutil.rmtree(config_dir.parent, ignore_errors=True)
    return path


async def shoot_fleet(name: str, size: tuple[int, int]) -> Path:
    """The fleet view over the UI tests' fake fleet (no ssh): three hosts, one of them gone unreachable."""
    from tests.fakes import key
    from tests.ui.fleet_fakes import fleet_app

    clock = SteppedClock()
    with tempfile.TemporaryDirectory(prefix="wgtui-screenshots-") as tmp:
        app, hosts = fleet_app(clock, Path(tmp))  # type: ignore[arg-type]
        async with app.run_test(size=size) as pilot:
            for second in range(4):
                if second == 3:
                    hosts["vpn-b"].answer = "down"
                hosts["vpn-a"].bump("wg0", key(1), rx_bytes=1_000 + 250_000 * second,
                                    tx_bytes=2_000 + 40_000 * second, latest_handshake=int(clock()))
                app.tick_now()
                clock.now += 1
            await pilot.pause()
            await pilot.press("down")
            await pilot.pause()
            path = OUT / f"{name}.svg"
            app.save_screenshot(filename=path.name, path=str(OUT))
    return path


async def main(only: set[str]) -> None:
    OUT.mkdir(exist_ok=True)
    if not only or "fleet" in only:
        print(await shoot_fleet("fleet", (100, 30)))
    for name, keys, size in (
        ("dashboard", [], (100, 30)),
        ("dashboard-80x24", [], (80, 24)),
        ("dashboard-200x50", [], (200, 50)),
        ("add-form", ["a", *"dora-laptop", "tab", "right", "tab", *CLIENT_KEY, "tab", "tab", "space"], (100, 30)),
        ("detail", ["down", "enter"], (100, 30)),
        ("help", ["question_mark"], (100, 30)),
        ("remove-preview", ["down", "d", "y"], (100, 30)),
    ):
        if not only or name in only:
            print(await shoot(name, keys, size))


if __name__ == "__main__":
    asyncio.run(main(set(sys.argv[1:])))
