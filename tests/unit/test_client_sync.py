"""Saved client configs follow their peer: a new preshared key, a new address, a new name, the peer's removal."""

from __future__ import annotations

from pathlib import Path

from tests.unit.pipeline_fixtures import server
from wgtui.changes import Planner, transaction
from wgtui.client_sync import check_saved, mismatches
from wgtui.conf import Document


def added(tmp_path: Path) -> tuple[object, Path, str]:
    backend, conf = server(tmp_path)
    plan = Planner("wg0", conf, backend).add("carol", preshared_key=True)
    assert transaction.run(plan, backend).ok
    return backend, conf, plan.public_key


def client(tmp_path: Path, name: str = "carol") -> Document:
    return Document.read(tmp_path / "clients" / f"wg0-{name}.conf")


def test_a_psk_rotation_rewrites_the_saved_config_with_the_new_key(tmp_path: Path) -> None:
    backend, conf, key = added(tmp_path)
    before = client(tmp_path)
    plan = Planner("wg0", conf, backend).rotate_psk("carol")
    assert any("gets the new preshared key" in n for n in plan.notes)
    assert transaction.run(plan, backend).ok
    after = client(tmp_path)
    server_peer = after.peers[0]
    assert server_peer.preshared_key == backend.psks[("wg0", key)] != before.peers[0].preshared_key
    assert after.interface.private_key == before.interface.private_key  # type: ignore[union-attr]  # kept
    assert check_saved(tmp_path, "wg0", key, "carol", backend)[2] == []


def test_an_address_edit_and_a_rename_move_the_saved_config(tmp_path: Path) -> None:
    backend, conf, key = added(tmp_path)
    plan = Planner("wg0", conf, backend).edit("carol", name="carol-tablet", allowed_ips="10.8.0.44/32")
    assert transaction.run(plan, backend).ok
    assert not (tmp_path / "clients" / "wg0-carol.conf").exists()
    assert client(tmp_path, "carol-tablet").interface.addresses == ("10.8.0.44/32",)  # type: ignore[union-attr]
    assert check_saved(tmp_path, "wg0", key, "carol-tablet", backend)[2] == []


def test_a_removal_deletes_the_saved_config_and_an_undo_brings_it_back(tmp_path: Path) -> None:
    backend, conf, _key = added(tmp_path)
    saved = (tmp_path / "clients" / "wg0-carol.conf").read_bytes()
    plan = Planner("wg0", conf, backend).remove("carol")
    backend.fail_apply = 1  # the runtime refuses: the removal is undone, the config too
    assert not transaction.run(plan, backend).ok
    assert (tmp_path / "clients" / "wg0-carol.conf").read_bytes() == saved
    assert transaction.run(Planner("wg0", conf, backend).remove("carol"), backend).ok
    assert not (tmp_path / "clients" / "wg0-carol.conf").exists()


def test_another_peers_file_of_the_same_name_is_never_touched(tmp_path: Path) -> None:
    backend, conf, _key = added(tmp_path)
    stranger = tmp_path / "clients" / "wg0-alice.conf"
    stranger.write_text("[Interface]\nPrivateKey = yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=\n")
    assert transaction.run(Planner("wg0", conf, backend).remove("alice"), backend).ok
    assert stranger.exists()


def test_what_no_longer_fits_is_said() -> None:
    text = ("[Interface]\nPrivateKey = yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=\nAddress = 10.8.0.5/32\n\n"
            "[Peer]\nPublicKey = Ga8gPbYzk8I0p3xXAdbB/sdwrAu4nOxD4o8C1hvyGCs=\nEndpoint = old.example:51820\n"
            "AllowedIPs = 0.0.0.0/0\n")
    from wgtui import keys

    mine = keys.public_key("yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=")
    said = mismatches(text, public_key=mine, addresses=("10.8.0.6/32",), preshared_key="x" * 43 + "=",
                      server_public_key="Ga8gPbYzk8I0p3xXAdbB/sdwrAu4nOxD4o8C1hvyGCs=",
                      server_endpoint="vpn.example:51820")
    assert len(said) == 3 and "Address is 10.8.0.5/32" in said[0] and "PresharedKey" in said[1]
    assert "vpn.example:51820" in said[2]
    other = mismatches(text, public_key=keys.keypair()[1], addresses=(), preshared_key=None,
                       server_public_key=None, server_endpoint=None)
    assert len(other) == 1 and "older config" in other[0]
