"""Writes the README's screenshots (SVG) from the demo backend: dashboard, peer detail and help."""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from wgtui.backends.demo import DemoBackend  # noqa: E402
from wgtui.ui.app import AppOptions, WgtuiApp  # noqa: E402

OUT = ROOT / "screenshots"
START = 1_800_000_000.0


class SteppedClock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> float:
        return self.now


async def shoot(name: str, keys: list[str], size: tuple[int, int]) -> Path:
    clock = SteppedClock()
    with tempfile.TemporaryDirectory() as tmp:
        backend = DemoBackend(40, seed=7, clock=clock, config_dir=Path(tmp))
        app = WgtuiApp(backend, AppOptions(autostart=False, clock=clock, config_dir=Path(tmp)))
        async with app.run_test(size=size) as pilot:
            # Two minutes of one-second polls, so that rates and sparklines have something to show.
            for _ in range(120):
                app.poll_now()
                clock.now += 1
            await pilot.pause()
            for key in keys:
                await pilot.press(key)
            await pilot.pause()
            path = OUT / f"{name}.svg"
            app.save_screenshot(filename=path.name, path=str(OUT))
    return path


async def main() -> None:
    OUT.mkdir(exist_ok=True)
    for name, keys, size in (
        ("dashboard", [], (100, 30)),
        ("dashboard-80x24", [], (80, 24)),
        ("detail", ["down", "enter"], (100, 30)),
        ("help", ["question_mark"], (100, 30)),
    ):
        print(await shoot(name, keys, size))


if __name__ == "__main__":
    asyncio.run(main())
