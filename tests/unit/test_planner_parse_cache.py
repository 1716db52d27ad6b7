"""Proves the planner parses a file once for as long as its bytes stay the same (the dashboard makes a planner per
change), and again as soon as they change, so a plan is never made on a stale document."""

from __future__ import annotations

from pathlib import Path

import pytest

from wgtui import keys
from wgtui.changes.plan import ChangeRefused
from wgtui.changes.planner import Planner


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
