"""Everyday operations in the dashboard on the demo backend: disable / enable, undo, init where there is no file; what
--read-only keys and a root user are told."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from textual.widgets import Static

from tests.fakes import Clock, FakeBackend
from tests.ui.helpers import app_for, body, demo, demo_app, done, first_poll, screen, screen_text, started, until
from wgtui.conf import Document
from wgtui.ui.dialogs.confirm import ConfirmScreen
from wgtui.ui.dialogs.diff_preview import DiffPreview
from wgtui.ui.dialogs.peer_form import PeerForm
from wgtui.ui.disabled_rows import DISABLED_GLYPH, is_disabled
from wgtui.ui.screens.dashboard import DashboardScreen
from wgtui.ui.screens.help import HelpScreen

SIZE = (100, 30)


async def applied(app: object, pilot: object) -> None:
    from wgtui.ui.app import WgtuiApp

    assert isinstance(app, WgtuiApp)
    await until(pilot, lambda: app.changes.last_result is not None and not app.changes.busy)  # type: ignore[arg-type]
    result = app.changes.last_result
    assert result is not None and result.ok, result


async def test_disable_then_enable_the_highlighted_peer(tmp_path: Path) -> None:
    app, clock, conf = started(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await first_poll(app, pilot)
        dash = app.dashboard
        key = dash.table.cursor_key
        assert key is not None
        row = dash.models["wg0"].rows[key]
        online = dash.summaries["wg0"].online
        assert "x Disable" in screen_text(app).splitlines()[-1]
        await pilot.press("x")
        preview = await screen(pilot, DiffPreview)
        assert preview.plan.title == f"Disable peer {row.name} on wg0"
        assert f"remove peer {key[:4]}" in body(preview.query_one("#preview-body", Static))
        await pilot.press("y")
        await applied(app, pilot)
        assert key not in demo(app).read("wg0").peers
        assert f"#[disabled] PublicKey = {key}" in conf.read_text()

        # Listed greyed with state `disabled`, a glyph of its own, never drift, never counted.
        clock.tick()
        app.poll_now()
        await pilot.pause()
        disabled = dash.models["wg0"].rows[key]
        assert is_disabled(disabled) and disabled.drift == () and disabled.name == row.name
        assert dash.summaries["wg0"].total == 39 and dash.summaries["wg0"].online <= online
        assert dash.table.select_key(key)
        await pilot.pause()
        text = screen_text(app)
        line = next(ln for ln in text.splitlines() if row.name in ln and DISABLED_GLYPH in ln)
        assert "disabled" in line and "+" not in line[:4] and "✕" not in line[:4]
        assert "⊘ disabled" in body(dash.query_one("#detail-fields", Static))
        assert "x Enable" in text.splitlines()[-1]  # the footer says what x does to this peer

        # Editing a disabled peer is refused with the reason, and x brings it back.
        await pilot.press("e")
        await pilot.pause()
        assert isinstance(app.screen, DashboardScreen)
        assert any("is disabled" in n.message for n in app._notifications)
        app.changes.last_result = None
        await pilot.press("x")
        preview = await screen(pilot, DiffPreview)
        assert preview.plan.title == f"Enable peer {row.name} on wg0"
        await pilot.press("y")
        await applied(app, pilot)
        peer = demo(app).read("wg0").peers[key]
        assert peer.allowed_ips == row.peer.allowed_ips and peer.has_preshared_key == row.peer.has_preshared_key
        clock.tick()
        app.poll_now()
        assert not is_disabled(dash.models["wg0"].rows[key])
        done(app)


async def test_a_peer_disabled_by_hand_is_listed_and_not_drift(tmp_path: Path) -> None:
    app, _clock, conf = started(tmp_path)
    key = "D" * 43 + "="
    conf.write_text(conf.read_text() + f"\n#[disabled] ### begin olga ###\n#[disabled] [Peer]\n"
                                       f"#[disabled] PublicKey = {key}\n#[disabled] AllowedIPs = 10.8.9.9/32\n"
                                       "#[disabled] ### end olga ###\n")
    async with app.run_test(size=SIZE) as pilot:
        await first_poll(app, pilot)
        rows = app.dashboard.models["wg0"].rows
        assert is_disabled(rows[key]) and rows[key].name == "olga" and rows[key].drift == ()
        assert rows[key].peer.allowed_ips == ("10.8.9.9/32",)
        # Sorted by state, disabled peers come last.
        model = app.dashboard.table.model
        assert model.key_at(len(model) - 1) == key


async def test_undo_reverts_the_last_change_and_a_second_one_says_why_not(tmp_path: Path) -> None:
    app, clock, conf = started(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await first_poll(app, pilot)
        original = conf.read_bytes()
        # Nothing to undo yet: the core's sentence, nothing changed.
        await pilot.press("z")
        await until(pilot, lambda: any("no change of wg0 to undo" in n.message for n in app._notifications))
        assert isinstance(app.screen, DashboardScreen) and conf.read_bytes() == original
        key = app.dashboard.table.cursor_key
        assert key is not None
        await pilot.press("x")
        await screen(pilot, DiffPreview)
        await pilot.press("y")
        await applied(app, pilot)
        assert conf.read_bytes() != original
        app.changes.last_result = None
        await pilot.press("z")
        preview = await screen(pilot, DiffPreview)
        assert preview.plan.title.startswith("Undo: Disable peer")
        await pilot.press("y")
        await applied(app, pilot)
        assert conf.read_bytes() == original and key in demo(app).read("wg0").peers
        # The file changed by hand since: undo is refused, saying so.
        conf.write_text(conf.read_text() + "# edited by hand\n")
        clock.tick()
        app.poll_now()
        await pilot.press("z")
        await until(pilot, lambda: any("undoing it would throw that away" in n.message for n in app._notifications))
        assert isinstance(app.screen, DashboardScreen)
        done(app)


async def test_a_change_key_without_a_config_file_offers_init_then_goes_on(tmp_path: Path) -> None:
    app, _clock = demo_app(tmp_path)
    site = tmp_path / "wg-site.conf"
    site.unlink()
    async with app.run_test(size=SIZE) as pilot:
        await first_poll(app, pilot)
        app.dashboard.switch_to("wg-site")
        await pilot.pause()
        text = screen_text(app)
        assert "no wg-site.conf" in text and "w Write" in text.splitlines()[-1]
        await pilot.press("a")
        confirm = await screen(pilot, ConfirmScreen)
        assert "wgtui init wg-site" in body(confirm.query_one("#confirm-body", Static))
        assert "pass --config" not in screen_text(app)
        await pilot.press("y")
        preview = await screen(pilot, DiffPreview)
        shown = body(preview.query_one("#preview-body", Static))
        assert "+PrivateKey = (hidden #" in shown and "+PresharedKey = (hidden #" in shown  # keys masked
        private = demo(app).private_key("wg-site")
        assert private is not None and private not in shown
        assert not site.exists()  # nothing written before apply
        await pilot.press("y")
        await screen(pilot, PeerForm)  # the file is there: the asked change goes on
        assert oct(site.stat().st_mode & 0o777) == "0o600"
        doc = Document.read(site)
        assert doc.interface is not None and doc.interface.private_key == private
        assert {p.public_key for p in doc.peers} == set(demo(app).read("wg-site").peers)
        await pilot.press("escape")
        await screen(pilot, DashboardScreen)
        done(app)


async def test_w_writes_the_file_and_says_so_where_one_exists(tmp_path: Path) -> None:
    app, _clock = demo_app(tmp_path)
    (tmp_path / "wg-site.conf").unlink()
    async with app.run_test(size=SIZE) as pilot:
        await first_poll(app, pilot)
        await pilot.press("w")  # wg0 has its file
        await until(pilot, lambda: any("never overwrites" in n.message for n in app._notifications))
        app.dashboard.switch_to("wg-site")
        await pilot.press("w")
        await screen(pilot, DiffPreview)
        await pilot.press("y")
        await until(pilot, lambda: (tmp_path / "wg-site.conf").exists() and not app.changes.busy)
        done(app)


async def test_read_only_keys_say_so(tmp_path: Path) -> None:
    app, _clock, conf = started(tmp_path, read_only=True)
    original = conf.read_bytes()
    async with app.run_test(size=SIZE) as pilot:
        await first_poll(app, pilot)
        for key, word in (("a", "Add"), ("e", "Edit"), ("d", "Remove"), ("r", "Rotate"), ("x", "Disable"),
                          ("z", "Undo"), ("c", "Client config"), ("y", "Sync"), ("space", "Mark"), ("w", "Write")):
            app.clear_notifications()
            await pilot.press(key)
            await pilot.pause()
            assert isinstance(app.screen, DashboardScreen), key
            said = [n.message for n in app._notifications]
            assert any(m.startswith(word) and "--read-only" in m for m in said), (key, said)
        await pilot.press("question_mark")
        help_screen = await screen(pilot, HelpScreen)
        assert "--read-only: these keys only say that they are off" in help_screen.plain
    assert conf.read_bytes() == original


SUDO_NOTICE = ("demo backend: no WireGuard interface could be read (kernel: none). Start with sudo to see the host's "
               "interfaces.")


@pytest.mark.parametrize("euid", [0, 1000])
async def test_root_is_never_told_to_use_sudo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, euid: int) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: euid)
    backend, clock = FakeBackend(), Clock()
    backend.add_peers("wg0", 2)
    backend.add_peers("wg1", 1)
    app = app_for(backend, clock, config_dir=tmp_path, notice=SUDO_NOTICE)
    from wgtui.backends.base import NotPermitted

    real_read = backend.read

    def read(ifname: str):  # type: ignore[no-untyped-def]
        if ifname == "wg1":
            raise NotPermitted("Reading WireGuard state needs CAP_NET_ADMIN: run wgtui as root (`sudo wgtui`).")
        return real_read(ifname)

    backend.read = read  # type: ignore[method-assign]
    async with app.run_test(size=SIZE) as pilot:
        await first_poll(app, pilot)
        app.dashboard.switch_to("wg1")
        await pilot.pause()
        said = [n.message for n in app._notifications]
        header = screen_text(app).splitlines()[:3]
        await pilot.press("question_mark")
        help_screen = await screen(pilot, HelpScreen)
        everything = "\n".join([*said, *header, help_screen.plain])
        assert "no WireGuard interface could be read" in everything
        assert "needs CAP_NET_ADMIN" in everything
        if euid == 0:
            assert "sudo" not in everything.lower() and "as root" not in everything
        else:
            assert "Start with sudo" in everything  # right for a user who is not root
