"""Planning changes: minimal diffs, WireGuard semantics (unique AllowedIPs), validation, secrets masked."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.unit.pipeline_fixtures import ALICE, BOB, BOB_PSK, CONF, GHOST, server, server_public
from wgtui import keys
from wgtui.changes import ChangeRefused, Planner
from wgtui.changes.plan import mask_secrets
from wgtui.conf import Document, ValidationError
from wgtui.model import KEEP, PeerUpdate


def planner(tmp_path: Path, conf: str = CONF, file_only: bool = False) -> Planner:
    backend, path = server(tmp_path, conf)
    return Planner("wg0", path, None if file_only else backend, file_only=file_only)


def added_lines(diff: str) -> list[str]:
    return [ln[1:] for ln in diff.splitlines() if ln.startswith("+") and not ln.startswith("+++")]


def removed_lines(diff: str) -> list[str]:
    return [ln[1:] for ln in diff.splitlines() if ln.startswith("-") and not ln.startswith("---")]


def test_add_appends_one_block_in_the_files_naming_convention(tmp_path: Path) -> None:
    plan = planner(tmp_path).add("carol", public_key=GHOST.replace("A3", "B3"), allowed_ips="10.8.0.7/32")
    assert removed_lines(plan.diff) == []
    added = added_lines(plan.diff)
    assert added[:3] == ["", "### Client carol", "[Peer]"] and added[4:] == [f"PublicKey = {plan.public_key}",
                                                                              "AllowedIPs = 10.8.0.7/32"]
    # When the key was made, inside the block: the key's age for the dashboard, `show --json` and --older-than.
    assert re.fullmatch(r"# wgtui: key-created=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", added[3])
    assert plan.after is not None and plan.after.startswith(CONF)
    assert plan.runtime == (PeerUpdate(plan.public_key, allowed_ips=("10.8.0.7/32",)),)
    assert any("Applies live" in n for n in plan.notes)


def test_auto_allowed_ips_skips_file_and_runtime_addresses_in_both_families(tmp_path: Path) -> None:
    p = planner(tmp_path)
    # 10.8.0.1 is the interface, .2 alice, .3 bob, .9 the runtime-only ghost; fd00:8::1 and ::2 are taken.
    assert p.auto_allowed_ips() == ("10.8.0.4/32", "fd00:8::3/128")
    plan = p.add("carol")
    assert plan.runtime[0].allowed_ips == ("10.8.0.4/32", "fd00:8::3/128")
    assert plan.client is not None and plan.client.addresses == ("10.8.0.4/32", "fd00:8::3/128")
    assert p.runtime is not None and plan.client.server_public_key == p.runtime.public_key  # runtime wins
    assert planner(tmp_path, file_only=True).add("dan").client.server_public_key == server_public()  # type: ignore[union-attr]
    assert keys.public_key(plan.client.private_key) == plan.public_key


def test_duplicate_allowed_ip_is_refused_naming_its_owner(tmp_path: Path) -> None:
    with pytest.raises(ChangeRefused) as err:
        planner(tmp_path).add("carol", allowed_ips="10.8.0.3")  # bob's, written without the prefix length
    assert err.value.field == "allowed_ips" and "bob" in str(err.value) and "silently take it" in str(err.value)
    with pytest.raises(ChangeRefused, match=r"10\.8\.0\.9/32 already belongs"):
        planner(tmp_path).add("carol", allowed_ips="10.8.0.9/32")  # only on the running interface


def test_containment_warns_and_outside_prefix_needs_a_route(tmp_path: Path) -> None:
    plan = planner(tmp_path).add("site", allowed_ips="10.8.0.0/29, 192.168.50.0/24")
    assert any("contains 10.8.0.2/32" in w for w in plan.warnings)
    assert any("192.168.50.0/24 is outside" in n and "needs a route" in n for n in plan.notes)


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"name": "x\n[Peer]"}, "name"),
    ({"name": "bob"}, "name"),  # taken
    ({"name": "ok", "public_key": "not-a-key"}, "public_key"),
    ({"name": "ok", "allowed_ips": "10.8.0.300/32"}, "allowed_ips"),
    ({"name": "ok", "endpoint": "host\nPostUp = rm -rf /:51820"}, "endpoint"),
    ({"name": "ok", "endpoint": "[fd00::1]"}, "endpoint"),
    ({"name": "ok", "keepalive": "70000"}, "persistent_keepalive"),
])
def test_hostile_or_invalid_input_is_refused_with_the_field(tmp_path: Path, kwargs: dict[str, str],
                                                           field: str) -> None:
    name = kwargs.pop("name")
    with pytest.raises((ValidationError, ChangeRefused)) as err:
        planner(tmp_path).add(name, **kwargs)  # type: ignore[arg-type]
    assert err.value.field == field


def test_remove_drops_block_and_its_name_only(tmp_path: Path) -> None:
    plan = planner(tmp_path).remove("alice")
    assert added_lines(plan.diff) == []
    assert removed_lines(plan.diff) == ["", "### Client alice", "[Peer]", f"PublicKey = {ALICE}",
                                        "AllowedIPs = 10.8.0.2/32, fd00:8::2/128   # laptop"]
    assert "# an old peer, commented out:" in (plan.after or "")
    assert plan.runtime == (PeerUpdate(ALICE, remove=True),)


def test_remove_runtime_only_peer_leaves_file_alone(tmp_path: Path) -> None:
    plan = planner(tmp_path).remove(GHOST[:6])
    assert not plan.changes_file and plan.runtime == (PeerUpdate(GHOST, remove=True),)


def test_edit_keepalive_off_is_sent_as_zero_and_line_deleted(tmp_path: Path) -> None:
    plan = planner(tmp_path).edit("bob", keepalive="0")
    assert plan.runtime == (PeerUpdate(BOB, persistent_keepalive=0),)
    assert removed_lines(plan.diff) == ["PersistentKeepalive = 25"] and added_lines(plan.diff) == []


def test_edit_allowed_ips_and_rename_touch_only_their_lines(tmp_path: Path) -> None:
    plan = planner(tmp_path).edit("alice", name="alice-laptop", allowed_ips="10.8.0.20/32")
    assert removed_lines(plan.diff) == ["### Client alice", "AllowedIPs = 10.8.0.2/32, fd00:8::2/128   # laptop"]
    assert added_lines(plan.diff) == ["### Client alice-laptop", "AllowedIPs = 10.8.0.20/32   # laptop"]
    assert plan.runtime == (PeerUpdate(ALICE, allowed_ips=("10.8.0.20/32",)),)
    with pytest.raises(ChangeRefused, match="Nothing to change"):
        planner(tmp_path).edit("alice", name="alice")


def test_rotate_now_moves_everything_to_the_new_key(tmp_path: Path) -> None:
    plan = planner(tmp_path).rotate_now("bob")
    new = plan.public_key
    assert plan.old_public_key == BOB and new != BOB
    assert removed_lines(plan.diff) == [f"PublicKey = {BOB}"]
    created, key_line = added_lines(plan.diff)
    assert key_line == f"PublicKey = {new}" and created.startswith("# wgtui: key-created=")
    assert plan.runtime == (PeerUpdate(new, allowed_ips=("10.8.0.3/32",), preshared_key=BOB_PSK,
                                       persistent_keepalive=25), PeerUpdate(BOB, remove=True))
    assert any("cut off at once" in w for w in plan.warnings)
    assert plan.client is not None and plan.client.preshared_key == BOB_PSK


def test_psk_rotation_in_place_and_masked_in_diff(tmp_path: Path) -> None:
    plan = planner(tmp_path).rotate_psk("bob")
    assert plan.runtime[0].public_key == BOB and plan.runtime[0].preshared_key not in (KEEP, None, BOB_PSK)
    assert BOB_PSK not in plan.diff and str(plan.runtime[0].preshared_key) not in plan.diff
    assert [ln.split("(hidden")[0] for ln in removed_lines(plan.diff)] == ["PresharedKey = "]


def test_mask_secrets_keeps_key_changes_visible_as_fingerprints() -> None:
    a = mask_secrets("PrivateKey = AAAA=\npresharedkey=BBBB= # c\nPublicKey = CCCC=\n")
    assert "AAAA" not in a and "BBBB" not in a and "PublicKey = CCCC=" in a and "# c" in a
    assert mask_secrets("PresharedKey = X") != mask_secrets("PresharedKey = Y")


def test_resolve_by_name_key_prefix_and_ambiguity(tmp_path: Path) -> None:
    p = planner(tmp_path)
    assert p.resolve("bob").public_key == BOB and p.resolve(BOB[:5]).public_key == BOB
    with pytest.raises(ChangeRefused, match="No peer"):
        p.resolve("nobody")
    with pytest.raises(ChangeRefused, match="No peer"):
        p.resolve(BOB[:3])  # too short to be a prefix


def test_save_config_is_warned_and_can_be_turned_off(tmp_path: Path) -> None:
    p = planner(tmp_path, CONF.replace("ListenPort = 51820\n", "ListenPort = 51820\nSaveConfig = true\n"))
    assert any("SaveConfig = true" in w for w in p.add("carol").warnings)
    off = p.disable_save_config()
    assert removed_lines(off.diff) == ["SaveConfig = true"] and added_lines(off.diff) == ["SaveConfig = false"]
    assert off.runtime == ()


def test_file_only_works_without_any_backend(tmp_path: Path) -> None:
    plan = planner(tmp_path, file_only=True).add("carol", allowed_ips="auto")
    assert plan.runtime == () and plan.file_only and plan.changes_file
    assert Document.parse(plan.after or "").find_peer(plan.public_key) is not None


def test_missing_config_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ChangeRefused, match="no config file"):
        Planner("wg0", tmp_path / "nope.conf", None, file_only=True)
