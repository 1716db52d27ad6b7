"""`wgtui check` on lifecycle items that do not parse: a warning on the `# wgtui:` line, live or #[disabled] peers."""

from __future__ import annotations

import json
from pathlib import Path

from tests.unit.pipeline_fixtures import ALICE, BOB, CONF
from tests.unit.test_check_cli import check
from wgtui import keys
from wgtui.conf import Document
from wgtui.conf.disabled import disable_peer

CAROL = keys.keypair()[1]


def _write(tmp_path: Path, text: str) -> Path:
    conf = tmp_path / "wg0.conf"
    conf.write_text(text)
    conf.chmod(0o600)
    return conf


def _with_policies(alice: str, bob: str, carol: str) -> str:
    """CONF with a `# wgtui:` comment in alice's and bob's blocks, and carol's block disabled with one."""
    text = CONF.replace(f"PublicKey = {ALICE}", f"# wgtui: {alice}\nPublicKey = {ALICE}")
    text = text.replace(f"PublicKey = {BOB}", f"# wgtui: {bob}\nPublicKey = {BOB}")
    text += f"\n### Client carol\n[Peer]\n# wgtui: {carol}\nPublicKey = {CAROL}\nAllowedIPs = 10.8.0.4/32\n"
    return disable_peer(Document.parse(text), CAROL).render()


def _line_of(text: str, words: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), start=1) if "wgtui:" in line and words in line)


def test_malformed_expiry_quota_and_reason_are_warnings_on_their_line(tmp_path: Path) -> None:
    text = _with_policies("expires=someday quota=5GB/month", "quota=12XB/month", "disabled=stolen quota=1GB/year")
    conf = _write(tmp_path, text)
    done = check("wg0", "--config-dir", str(tmp_path))
    assert done.returncode == 0, done.stdout + done.stderr  # warnings only: the file works as wg-quick reads it
    lines = done.stdout.splitlines()
    expected = {
        f"{conf}:{_line_of(text, 'expires=someday')}: warning: peer 'alice': expires=someday": "never expires",
        f"{conf}:{_line_of(text, 'quota=12XB/month')}: warning: peer 'bob': quota=12XB/month": "unknown unit",
        f"{conf}:{_line_of(text, 'disabled=stolen')}: warning: disabled peer 'carol': disabled=stolen": "manual",
        f"{conf}:{_line_of(text, 'disabled=stolen')}: warning: disabled peer 'carol': quota=1GB/year": "no quota",
    }
    for start, words in expected.items():
        assert any(line.startswith(start) and words in line for line in lines), (start, lines)
    assert not any("5GB/month" in line for line in lines), lines  # a quota that parses is not reported
    assert lines[-1] == "0 error(s), 4 warning(s)"
    report = json.loads(check("wg0", "--config-dir", str(tmp_path), "--json").stdout)
    bad = [f for f in report["findings"] if f["code"] == "bad-policy"]
    assert [f["line"] for f in bad] == sorted(f["line"] for f in bad) and len(bad) == 4
    assert {f["severity"] for f in bad} == {"warning"}


def test_well_formed_policies_give_no_warning(tmp_path: Path) -> None:
    text = _with_policies("expires=2099-12-31 quota=5GB/month", "quota=none", "disabled=expired expires=never")
    _write(tmp_path, text)
    done = check("wg0", "--config-dir", str(tmp_path))
    assert done.returncode == 0 and "no errors, no warnings" in done.stdout, done.stdout + done.stderr


def test_a_duplicate_key_with_a_bad_item_is_reported_not_a_crash(tmp_path: Path) -> None:
    text = CONF + f"\n[Peer]\n# wgtui: expires=soon\nPublicKey = {ALICE}\nAllowedIPs = 10.8.0.9/32\n"
    conf = _write(tmp_path, text)
    done = check("wg0", "--config-dir", str(tmp_path))
    assert done.returncode == 1 and not done.stderr, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert any(line.startswith(f"{conf}:{_line_of(text, 'expires=soon')}: warning: ") and "expires=soon" in line
               for line in lines), lines
    assert any(": error: " in line and "same PublicKey" in line for line in lines), lines
