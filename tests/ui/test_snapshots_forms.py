"""SVG snapshots of the peer form with its checkbox and radio state readable as text ([x] / [ ], (•) / ( )) at 80x24
and 200x50, and of the column chooser (the `app` fixture in conftest: fixed keys, relative paths).

A failing snapshot is a question: open snapshot_report.html and look at the difference before updating.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from tests.fakes import Clock
from tests.ui.helpers import steps
from wgtui.ui.app import WgtuiApp
from wgtui.ui.dialogs.choosers import ColumnChooser
from wgtui.ui.dialogs.peer_form import PeerForm
from wgtui.ui.widgets.form_controls import TextCheckbox

SnapCompare = Callable[..., bool]
CLIENT_KEY = "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg="
SIZES = [(80, 24), (200, 50)]


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "200x50"])
def test_add_form_pasting_a_key_with_a_preshared_key(snap_compare: SnapCompare, app: tuple[WgtuiApp, Clock],
                                                     size: tuple[int, int]) -> None:
    """(•) paste chosen, [x] preshared key: the state is in the characters, whatever the colours."""
    wgtui, clock = app
    prepare = steps(wgtui, clock, "a", PeerForm, *"dora-laptop", "tab", "right", "tab", *CLIENT_KEY)

    async def run_before(pilot: Pilot[None]) -> None:
        await prepare(pilot)
        form = wgtui.screen
        assert isinstance(form, PeerForm)
        form.query_one("#psk", TextCheckbox).value = True
        await pilot.pause()

    assert snap_compare(wgtui, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "200x50"])
def test_add_form_as_it_opens(snap_compare: SnapCompare, app: tuple[WgtuiApp, Clock], size: tuple[int, int]) -> None:
    """(•) generate, [ ] preshared key, placeholders as examples, the unset server endpoint said."""
    wgtui, clock = app
    assert snap_compare(wgtui, terminal_size=size, run_before=steps(wgtui, clock, "a", PeerForm))


def test_column_chooser(snap_compare: SnapCompare, app: tuple[WgtuiApp, Clock]) -> None:
    wgtui, clock = app
    assert snap_compare(wgtui, terminal_size=(80, 24),
                        run_before=steps(wgtui, clock, "C", ColumnChooser, "down", "space", "down", "down", "space"))


def test_edit_form_with_an_expiry_and_a_quota(snap_compare: SnapCompare, app: tuple[WgtuiApp, Clock],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """80x24: the peer's expiry and quota prefilled from its wgtui comment; a new expiry typed says what it means."""
    monkeypatch.setenv("TZ", "UTC")  # the hint shows the host's local time
    conf = Path("wg/wg0.conf")
    meta = "# wgtui: key-created=2027-01-14T08:00:00Z"
    conf.write_text(conf.read_text().replace(meta, f"{meta} expires=2027-01-18T08:00Z quota=50GB/month", 1))
    wgtui, clock = app
    prepare = steps(wgtui, clock, "e", PeerForm, "tab", "tab", "tab", "tab", *"2027-03-31")

    async def run_before(pilot: Pilot[None]) -> None:
        await prepare(pilot)
        form = wgtui.screen
        assert isinstance(form, PeerForm)
        assert form.query_one("#quota", Input).value == "50GB/month"
        assert form.query_one("#expires", Input).value == "2027-03-31"

    assert snap_compare(wgtui, terminal_size=(80, 24), run_before=run_before)
