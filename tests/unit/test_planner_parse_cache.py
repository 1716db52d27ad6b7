"""Proves the planner parses a file once for as long as its bytes stay the same (the dashboard makes a planner per
change, and its monitor reads the file too), and again as soon as they change, so a plan is never made on a stale
document."""

from __future__ import annotations

from pathlib import Path

import pytest

from wgtui import keys
from wgtui.changes.plan import ChangeRefused
from wgtui.changes.planner import Planner
from wgtui.conf.check import check_and_parse, check_bytes
from wgtui.conf.parsed import parsed
from wgtui.config_source import ConfigSource


def _config(directory: Path, peers: int) -> Path:
    directory.chmod(0o700)
    lines = ["[Interface]", f"PrivateKey = {keys.generate_private_key()}", "Address = 10.0.0.1/24", ""]
    for i in range(peers):
        lines += [f"# friendly_name = p{i}", "[Peer]", f"PublicKey = {keys.public_key(keys.generate_private_key())}",
                  f"AllowedIPs = 10.0.0.{i + 2}/32", ""]
    path = directory / "wg0.conf"
    path.write_text("\n".join(lines))
    path.chmod(0o600)
    return path


def test_the_same_bytes_are_parsed_once_and_changed_bytes_again(tmp_path: Path) -> None:
    conf = _config(tmp_path, 3)
    first = Planner("wg0", conf, None, file_only=True)
    again = Planner("wg0", conf, None, file_only=True)
    assert again.doc is first.doc
    plan = first.add("newcomer")
    assert plan.after is not None
    conf.write_text(plan.after)
    after = Planner("wg0", conf, None, file_only=True)
    assert after.doc is not first.doc
    assert [p.name for p in after.peers()] == ["p0", "p1", "p2", "newcomer"]
    assert [p.name for p in first.peers()] == ["p0", "p1", "p2"]  # the shared document was not changed in place


def test_a_file_with_errors_is_refused_every_time(tmp_path: Path) -> None:
    conf = _config(tmp_path, 1)
    conf.write_text(conf.read_text() + "\n[Interface]\nListenPort = 1\n")  # a second [Interface]: wg-quick refuses
    for _ in range(2):
        with pytest.raises(ChangeRefused, match="errors that wg-quick would refuse"):
            Planner("wg0", conf, None, file_only=True)


def test_the_dashboards_monitor_and_its_planners_share_one_document(tmp_path: Path) -> None:
    """Once a change was planned on a file, the monitor's next read of it (after the change) keeps its document, and
    the next change's planner parses nothing. Before any change the monitor keeps nothing (memory)."""
    conf = _config(tmp_path, 3)
    source = ConfigSource(tmp_path)
    view = source("wg0")
    assert view.peers is not None
    data = conf.read_bytes()
    assert parsed(conf, data, keep=False) is not parsed(conf, data, keep=False)  # the monitor alone keeps nothing
    planner = Planner("wg0", conf, None, file_only=True)
    assert parsed(conf, data, keep=False) is planner.doc  # kept by the planner: the monitor finds it
    plan = planner.add("newcomer")
    assert plan.after is not None
    conf.write_text(plan.after + "\n")  # new bytes (and a new size, for the monitor's stat check)
    seen = source("wg0")
    assert seen.peers is not None and "newcomer" in seen.names.values()
    after = Planner("wg0", conf, None, file_only=True)
    assert after.doc is not planner.doc
    assert all(after.doc.find_peer(key) is peer for key, peer in seen.peers.items())


def test_the_kept_check_is_the_one_for_the_same_document_and_interface_key(tmp_path: Path) -> None:
    """A peer holding the running interface's own key is an error only for that interface key: a kept check must
    never answer for another key (or for warnings when only errors were asked for)."""
    own = keys.public_key(keys.generate_private_key())
    text = f"[Interface]\nListenPort = 51820\n\n[Peer]\nPublicKey = {own}\nAllowedIPs = 10.0.0.3/32\n".encode()
    conf = tmp_path / "wg0.conf"
    reads = [parsed(conf, text) for _ in range(2)]
    assert reads[0] is reads[1]
    for _ in range(2):
        assert check_and_parse(text, errors_only=True, parse=lambda data: parsed(conf, data))[0] == []
        found, _doc = check_and_parse(text, interface_public_key=own, errors_only=True,
                                      parse=lambda data: parsed(conf, data))
        assert [f.code for f in found] == ["own-public-key"]
    assert check_and_parse(text, parse=lambda data: parsed(conf, data))[0] == check_bytes(text)
