"""The peer form as a hand meets it: state readable as text, placeholders that are not values, tab to the key, a
pasted key never over the addresses, a cancelled preview back to the form; and sync that says what each side has."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console, RenderableType
from textual import events
from textual.widgets import Input, Static

from tests.ui.helpers import body, demo, done, fill, first_poll, screen, screen_text, started, until
from wgtui import keys
from wgtui.conf import Document
from wgtui.model import PeerUpdate
from wgtui.ui.dialogs.diff_preview import DiffPreview
from wgtui.ui.dialogs.peer_form import PeerForm
from wgtui.ui.dialogs.sync import SyncScreen
from wgtui.ui.screens.dashboard import DashboardScreen
from wgtui.ui.widgets.form_controls import TextCheckbox, TextRadioButton

SIZE = (100, 30)


def plain(renderable: RenderableType) -> str:
    console = Console(width=300, color_system=None, record=True, file=io.StringIO())
    console.print(renderable)
    return " ".join(console.export_text().split())


@pytest.mark.parametrize("no_color", [False, True])
async def test_checkbox_and_radio_state_reads_as_text(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      no_color: bool) -> None:
    if no_color:
        monkeypatch.setenv("NO_COLOR", "1")
    app, _clock, _conf = started(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await first_poll(app, pilot)
        await pilot.press("a")
        form = await screen(pilot, PeerForm)
        text = screen_text(app)
        assert "(•) generate a key pair" in text and "( ) paste the client's public key" in text
        assert "[ ] generate one" in text and "▐" not in text
        form.query_one("#psk", TextCheckbox).value = True
        form.query_one("#key-source").focus()
        await pilot.press("right")  # the arrows choose (a radio is never only highlighted)
        await pilot.pause()
        text = screen_text(app)
        assert "( ) generate a key pair" in text and "(•) paste the client's public key" in text
        assert "[x] generate one" in text


async def test_placeholders_are_examples_never_values(tmp_path: Path) -> None:
    app, _clock, conf = started(tmp_path)
    conf.write_text(conf.read_text().replace("# friendly_name = alice-desktop\n", "", 1))  # one peer without a name
    async with app.run_test(size=SIZE) as pilot:
        await first_poll(app, pilot)
        await pilot.press("a")
        form = await screen(pilot, PeerForm)
        for field in ("name", "allowed_ips", "server_endpoint"):
            assert form.query_one(f"#{field}", Input).placeholder.startswith("e.g. "), field
        for field in ("keepalive", "endpoint"):
            assert form.query_one(f"#{field}", Input).placeholder.startswith("empty: "), field
        # The empty server endpoint is said to be unset, in the client config's own words; typing one says no more.
        note = form.query_one("#server_endpoint-msg", Static)
        assert note.display and "No server endpoint is set" in body(note)
        await fill(pilot, form, server_endpoint="vpn.example.org:51820")
        assert not note.display
        await fill(pilot, form, server_endpoint="")
        assert note.display and "No server endpoint is set" in body(note)
        await pilot.press("escape")
        await screen(pilot, DashboardScreen)
        # An unnamed peer's edit form shows no made-up name.
        unnamed = next(k for k, r in app.dashboard.models["wg0"].rows.items()
                       if not r.name and Document.read(conf).find_peer(k) is not None and not r.drift)
        assert app.dashboard.table.select_key(unnamed)
        await pilot.press("e")
        form = await screen(pilot, PeerForm)
        name = form.query_one("#name", Input)
        assert name.value == "" and "alice" not in name.placeholder and name.placeholder.startswith("none yet")
        await pilot.press("escape")
        await screen(pilot, DashboardScreen)
        done(app)


async def test_tab_from_paste_goes_to_the_key_and_a_pasted_key_never_replaces_the_address(tmp_path: Path) -> None:
    app, _clock, _conf = started(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await first_poll(app, pilot)
        await pilot.press("a")
        form = await screen(pilot, PeerForm)
        ips = form.query_one("#allowed_ips", Input)
        address = ips.value
        form.query_one("#key-source").focus()
        await pilot.press("down", "tab")  # choose "paste", then tab: the key field, not Allowed IPs
        await pilot.pause()
        key_box = form.query_one("#public_key", Input)
        assert form.query_one("#key-paste", TextRadioButton).value and key_box.has_focus
        # A key pasted where the addresses are (tab there selects them) goes to the key field instead.
        _private, public = keys.keypair()
        key_box.value = ""
        await pilot.press("shift+tab", "tab", "tab")
        assert ips.has_focus
        ips.post_message(events.Paste(public + "\n"))
        await pilot.pause()
        assert ips.value == address and key_box.value == public and key_box.has_focus
        # Generating again, a pasted key still goes to the key field (the choice turns to paste).
        form.query_one("#key-generate", TextRadioButton).value = True
        await pilot.pause()
        ips.focus()
        ips.post_message(events.Paste(public))
        await pilot.pause()
        assert ips.value == address and form.query_one("#key-paste", TextRadioButton).value
        # Anything else pasted goes in as usual.
        ips.focus()
        ips.value = ""
        ips.post_message(events.Paste("10.8.0.50/32"))
        await pilot.pause()
        assert ips.value == "10.8.0.50/32"
        await pilot.press("escape")
        await screen(pilot, DashboardScreen)
        done(app)


async def test_cancel_in_the_preview_keeps_everything_typed_and_chosen(tmp_path: Path) -> None:
    app, _clock, conf = started(tmp_path)
    original = conf.read_bytes()
    async with app.run_test(size=SIZE) as pilot:
        await first_poll(app, pilot)
        await pilot.press("a")
        form = await screen(pilot, PeerForm)
        await fill(pilot, form, name="dora-laptop", allowed_ips="10.8.0.77/32", keepalive="25",
                   endpoint="192.0.2.7:51820", server_endpoint="vpn.example.org:51820")
        form.query_one("#psk", TextCheckbox).value = True
        await pilot.press("enter")
        preview = await screen(pilot, DiffPreview)
        assert "Back to the form (n)" in screen_text(app)
        await pilot.press("n")
        await until(pilot, lambda: isinstance(app.screen, PeerForm) and app.screen is not form)
        again = app.screen
        assert isinstance(again, PeerForm) and again is not form and preview is not again
        values = {f: again.query_one(f"#{f}", Input).value for f in
                  ("name", "allowed_ips", "keepalive", "endpoint", "server_endpoint")}
        assert values == {"name": "dora-laptop", "allowed_ips": "10.8.0.77/32", "keepalive": "25",
                          "endpoint": "192.0.2.7:51820", "server_endpoint": "vpn.example.org:51820"}
        assert again.query_one("#psk", TextCheckbox).value
        # Fix one field and go on: the change is the one typed, with the fix.
        await fill(pilot, again, name="dora-tablet")
        await pilot.press("enter")
        await screen(pilot, DiffPreview)
        await pilot.press("y")
        await until(pilot, lambda: app.changes.last_result is not None)
        assert conf.read_bytes() != original and "# friendly_name = dora-tablet" in conf.read_text()
        assert "AllowedIPs = 10.8.0.77/32" in conf.read_text()


async def test_sync_says_what_each_side_has_and_what_each_choice_does(tmp_path: Path) -> None:
    app, clock, _conf = started(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await first_poll(app, pilot)
        rows = app.dashboard.models["wg0"].rows
        key, row = next((k, r) for k, r in rows.items() if r.name and not r.peer.has_preshared_key and not r.drift)
        before = row.peer.allowed_ips[0]
        demo(app).apply("wg0", [PeerUpdate(key, allowed_ips=("10.8.99.9/32",))])  # a `wg set` by hand
        clock.tick()
        app.poll_now()
        await pilot.press("y")
        chooser = await screen(pilot, SyncScreen)
        assert "(•) file wins  ( ) interface wins" in screen_text(app)
        item = next(i for i in chooser.items if i.public_key == key)
        prompt = plain(chooser._prompt(item))
        assert f"→ {row.name}: AllowedIPs: file {', '.join(row.peer.allowed_ips)}, interface 10.8.99.9/32 -> the " \
               "interface takes the file's." in prompt
        assert "space instead" in prompt and "-> the file takes the interface's." in prompt
        chooser.sides = {key: "file"}  # only this peer
        await pilot.press("enter")
        preview = await screen(pilot, DiffPreview)
        shown = body(preview.query_one("#preview-body", Static))
        assert f"allowed-ips {before}" in shown
        assert "preshared-key" not in shown  # it never had one: nothing about it is said, or sent
        await pilot.press("y")
        await until(pilot, lambda: app.changes.last_result is not None and not app.changes.busy)
        assert demo(app).read("wg0").peers[key].allowed_ips == row.peer.allowed_ips
        done(app)
