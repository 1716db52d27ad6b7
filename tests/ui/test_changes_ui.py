"""The change flows driven with Pilot on the demo backend: form → diff preview → apply, for real, file and runtime
(their edges: test_change_edges_ui.py)."""

from __future__ import annotations

import re
from pathlib import Path

from textual.widgets import Button, Input, Static

from tests.ui.helpers import body, demo, done, fill, first_poll, screen, screen_text, started, until
from wgtui.conf import Document
from wgtui.ui.dialogs.client_config import ClientConfigScreen
from wgtui.ui.dialogs.confirm import ConfirmScreen
from wgtui.ui.dialogs.diff_preview import DiffPreview
from wgtui.ui.dialogs.peer_form import PeerForm
from wgtui.ui.dialogs.rotate_choice import RotateChoice
from wgtui.ui.screens.dashboard import DashboardScreen

SIZE = (80, 24)


async def test_add_via_form_preview_apply(tmp_path: Path) -> None:
    app, clock, conf = started(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await first_poll(app, pilot)
        before = set(demo(app).read("wg0").peers)
        await pilot.press("a")
        form = await screen(pilot, PeerForm)
        # Prefilled with the next free addresses of the interface's subnets.
        assert form.query_one("#allowed_ips", Input).value == "10.8.0.2/32, fd00:8::2/128"
        await pilot.press(*"carol-tablet", "enter")
        preview = await screen(pilot, DiffPreview)
        text = body(preview.query_one("#preview-body", Static))
        assert "+# friendly_name = carol-tablet" in text and "+[Peer]" in text
        assert "+AllowedIPs = 10.8.0.2/32, fd00:8::2/128" in text
        assert "allowed-ips 10.8.0.2/32,fd00:8::2/128" in text  # the runtime operation
        assert "PrivateKey" not in text.split("Config file")[1].replace("(hidden", "")  # no secret in the diff
        await pilot.press("y")
        client = await screen(pilot, ClientConfigScreen)
        result = app.changes.last_result
        assert result is not None and result.ok, result

        # The file: one new [Peer] block with the name comment, in the file's convention.
        key = {name: k for k, name in Document.read(conf).names.items()}["carol-tablet"]
        # (and the key's age: wgtui's own comment inside the block)
        assert re.search(rf"# friendly_name = carol-tablet\n\[Peer\]\n# wgtui: key-created=[0-9TZ:-]+\n"
                         rf"PublicKey = {re.escape(key)}\n", conf.read_text())
        # The running interface (read from the demo backend itself).
        peer = demo(app).read("wg0").peers[key]
        assert peer.allowed_ips == ("10.8.0.2/32", "fd00:8::2/128")
        assert set(demo(app).read("wg0").peers) == before | {key}
        # The client config is for this key: its private key derives the new public key.
        assert "PrivateKey = " in client.text and "Address = 10.8.0.2/32, fd00:8::2/128" in client.text
        # It was saved (0600) before the interface changed, and the screen says where.
        saved = tmp_path / "clients" / "wg0-carol-tablet.conf"
        assert client.saved == saved and saved.read_text() == client.text
        assert oct(saved.stat().st_mode & 0o777) == "0o600"
        assert str(saved) in body(client.query_one("#client-intro", Static))

        # The table shows it after a poll, with the cursor on it.
        clock.tick()
        app.poll_now()
        row = app.dashboard.models["wg0"].rows[key]
        assert row.name == "carol-tablet"
        assert app.dashboard.table.cursor_key == key
        await pilot.press("escape")  # saved already: closes without asking
        await screen(pilot, DashboardScreen)
        assert "carol-tablet" in screen_text(app)
        done(app)


async def test_cancel_at_preview_writes_nothing(tmp_path: Path) -> None:
    app, _clock, conf = started(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await first_poll(app, pilot)
        original = conf.read_bytes()
        peers = demo(app).read("wg0").peers
        await pilot.press("a")
        await fill(pilot, await screen(pilot, PeerForm), name="never-added", keepalive="25")
        await pilot.press("enter")
        preview = await screen(pilot, DiffPreview)
        await pilot.press("n")
        # Back to the form, everything typed still there (fixing one field never means typing the others again).
        await until(pilot, lambda: isinstance(app.screen, PeerForm) and app.screen is not preview)
        form = app.screen
        assert isinstance(form, PeerForm)
        assert form.query_one("#name", Input).value == "never-added"
        assert form.query_one("#keepalive", Input).value == "25"
        assert conf.read_bytes() == original
        await pilot.press("escape")
        await screen(pilot, DashboardScreen)
        assert conf.read_bytes() == original
        assert demo(app).read("wg0").peers.keys() == peers.keys()
        assert not list(tmp_path.glob("*.bak")) and not (tmp_path / "clients").exists()
        # Escape in the form changes nothing either.
        await pilot.press("a")
        await fill(pilot, await screen(pilot, PeerForm), name="also-not")
        await pilot.press("escape")
        await screen(pilot, DashboardScreen)
        assert conf.read_bytes() == original
        assert app.changes.last_result is None
        done(app)


async def test_invalid_input_shows_field_messages_and_cannot_submit(tmp_path: Path) -> None:
    app, _clock, conf = started(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await first_poll(app, pilot)
        original = conf.read_bytes()
        await pilot.press("a")
        form = await screen(pilot, PeerForm)
        submit = form.query_one("#submit", Button)
        assert submit.disabled  # no name yet: explained, but not shouted at before typing
        assert "Name must not be empty" in body(form.query_one("#form-status", Static))
        assert not form.query_one("#name-msg", Static).display

        await pilot.press(*"dora")
        assert not submit.disabled

        # A bad CIDR, typed key by key.
        ips = form.query_one("#allowed_ips", Input)
        ips.focus()
        await pilot.press(*"10.8.0.300/32")
        msg = form.query_one("#allowed_ips-msg", Static)
        assert msg.display and "'10.8.0.300' is not an IPv4 or IPv6 address" in body(msg)
        assert submit.disabled
        await pilot.press("enter")
        assert isinstance(app.screen, PeerForm)

        # An address another peer owns: refused while typing (it would silently move).
        owner_key, owner = next((k, r) for k, r in app.dashboard.models["wg0"].rows.items()
                                if r.name == "alice-desktop")
        await fill(pilot, form, allowed_ips=owner.peer.allowed_ips[0])
        assert "already belongs to alice-desktop" in body(msg) and submit.disabled

        # A name with a newline (pasting cuts lines; a value set otherwise must still be refused).
        ips.value = "10.8.0.2/32"
        form.query_one("#name", Input).value = "evil\n[Peer]"
        await pilot.pause()
        name_msg = form.query_one("#name-msg", Static)
        assert name_msg.display and "must stay on one line" in body(name_msg)
        assert submit.disabled

        form.query_one("#name", Input).value = "dora"
        form.query_one("#keepalive", Input).value = "70000"
        await pilot.pause()
        assert "out of range" in body(form.query_one("#keepalive-msg", Static)) and submit.disabled
        form.query_one("#keepalive", Input).value = "25"
        form.query_one("#endpoint", Input).value = "no-port"
        await pilot.pause()
        assert "needs a port" in body(form.query_one("#endpoint-msg", Static)) and submit.disabled
        await pilot.press("escape")
        await screen(pilot, DashboardScreen)
        assert conf.read_bytes() == original
        assert owner_key in demo(app).read("wg0").peers
        done(app)


async def test_remove_with_confirm(tmp_path: Path) -> None:
    app, clock, conf = started(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await first_poll(app, pilot)
        key = app.dashboard.table.cursor_key
        assert key is not None
        row = app.dashboard.models["wg0"].rows[key]
        original = conf.read_bytes()

        await pilot.press("d")
        confirm = await screen(pilot, ConfirmScreen)
        text = body(confirm.query_one("#confirm-body", Static))
        assert row.name in text and key in text and row.peer.allowed_ips[0] in text
        await pilot.press("n")  # no: nothing happens
        await screen(pilot, DashboardScreen)
        assert conf.read_bytes() == original

        await pilot.press("d")
        await screen(pilot, ConfirmScreen)
        await pilot.press("y")
        preview = await screen(pilot, DiffPreview)
        text = body(preview.query_one("#preview-body", Static))
        assert f"-# friendly_name = {row.name}" in text and f"-PublicKey = {key}" in text
        assert f"remove peer {key[:4]}" in text
        await pilot.press("y")
        await until(pilot, lambda: app.changes.last_result is not None)
        assert app.changes.last_result is not None and app.changes.last_result.ok
        assert key not in demo(app).read("wg0").peers
        assert key not in conf.read_text() and f"friendly_name = {row.name}\n" not in conf.read_text()
        clock.tick()
        app.poll_now()
        assert key not in app.dashboard.models["wg0"].rows
        await until(pilot, lambda: not app.changes.busy)
        done(app)


async def test_edit_keepalive(tmp_path: Path) -> None:
    app, _clock, conf = started(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await first_poll(app, pilot)
        key = app.dashboard.table.cursor_key
        assert key is not None
        name = app.dashboard.models["wg0"].rows[key].name
        await pilot.press("e")
        form = await screen(pilot, PeerForm)
        assert form.query_one("#name", Input).value == name
        assert not form.query("#public_key")  # no key source when editing
        form.query_one("#keepalive", Input).focus()  # focusing selects the text: typing replaces it
        await pilot.press(*"15", "enter")
        preview = await screen(pilot, DiffPreview)
        text = body(preview.query_one("#preview-body", Static))
        assert "+PersistentKeepalive = 15" in text and "persistent-keepalive 15" in text
        await pilot.press("y")
        await until(pilot, lambda: app.changes.last_result is not None and not app.changes.busy)
        assert demo(app).read("wg0").peers[key].persistent_keepalive == 15
        assert Document.read(conf).peer(key).persistent_keepalive == 15
        done(app)


async def test_rotate_now(tmp_path: Path) -> None:
    app, clock, conf = started(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await first_poll(app, pilot)
        old = app.dashboard.table.cursor_key
        assert old is not None
        row = app.dashboard.models["wg0"].rows[old]
        await pilot.press("r")
        await screen(pilot, RotateChoice)
        await pilot.press("down", "enter")  # "now"
        preview = await screen(pilot, DiffPreview)
        text = body(preview.query_one("#preview-body", Static))
        assert "cut off at once" in text
        await pilot.press("y")
        client = await screen(pilot, ClientConfigScreen)
        names = Document.read(conf).names
        new = next(k for k, n in names.items() if n == row.name)
        assert new != old and old not in demo(app).read("wg0").peers
        assert demo(app).read("wg0").peers[new].allowed_ips == row.peer.allowed_ips
        assert "PrivateKey" in client.text
        done_saving = client.query_one("#save-path", Input).value
        assert done_saving == str(tmp_path / "clients" / f"wg0-{row.name}.conf")
        clock.tick()
        app.poll_now()
        assert app.dashboard.table.cursor_key == new


async def test_read_only_hides_every_change(tmp_path: Path) -> None:
    app, _clock, conf = started(tmp_path, read_only=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await first_poll(app, pilot)
        original = conf.read_bytes()
        footer = screen_text(app).splitlines()[-1]
        assert "Filter" in footer and not any(word in footer for word in ("Add", "Edit", "Remove", "Rotate"))
        for key in "aedrc":
            await pilot.press(key)
            await pilot.pause()
            assert isinstance(app.screen, DashboardScreen), key
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert any(t.startswith("Filter by name") for t in titles)
        # The palette offers no change (its entries are the bindings that work here).
        assert not [t for t in titles if t.split(" ")[0] in ("Add", "Edit", "Remove", "Rotate", "Disable", "Undo",
                                                             "Sync:", "Mark", "Write", "Pending")]
        assert not [t for t in titles if t.startswith("Show again")]  # a client config shows a private key
        assert conf.read_bytes() == original
    (tmp_path / "rw").mkdir()
    app, _clock, _conf = started(tmp_path / "rw")
    async with app.run_test(size=(80, 24)) as pilot:
        await first_poll(app, pilot)
        footer = screen_text(app).splitlines()[-1]
        assert all(word in footer for word in ("Add", "Edit", "Remove", "Rotate", "Filter", "Help", "Quit"))
