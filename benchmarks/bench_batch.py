"""Provides the batch benchmark: 1,000 peers added to a live 2,000-peer wireguard-go interface, `wgtui peer apply`
(one plan, one transaction; its dry run, with given and with `auto` addresses; and the same file again) against the
blog post's way (1,000 × `wg set` and an append to the file), in one run: whole processes, as a user runs them."""

from __future__ import annotations

import base64
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import ROOT, Result, main_for, skipped
from tests import netns

BENCH = "batch apply (wireguard-go)"


def _key(i: int) -> str:
    return base64.b64encode(i.to_bytes(4, "big") * 8).decode()


def _ip(i: int) -> str:
    return f"10.{64 + i // 65536}.{i // 256 % 256}.{i % 256}/32"


def _apply(ns: str, ifname: str, rows: Path, etc: Path, *extra: str) -> float:
    """Seconds of one whole `wgtui peer apply` process (start-up, reading, planning, and the change unless
    --dry-run), run inside the namespace as a user would."""
    started = time.perf_counter()
    done = subprocess.run(["ip", "netns", "exec", ns, "env", f"PYTHONPATH={ROOT}", sys.executable, "-m", "wgtui",
                           "peer", "apply", ifname, "--from", str(rows), "--config-dir", str(etc), *extra],
                          capture_output=True, text=True, timeout=600)
    took = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(done.stderr)
    return took


def run(existing: int = 2_000, added: int = 1_000, repeat: int = 3) -> list[Result]:
    reason = netns.skip_reason()
    if reason:
        return [skipped(BENCH, reason)]
    lab = netns.Lab()
    try:
        figures: dict[str, float] = {}
        for way in ("wgtui peer apply", "wg set + append"):
            ns = lab.netns()
            daemon = lab.wireguard(ns, "10.64.0.1/10")
            etc = Path(tempfile.mkdtemp(dir=lab.tmp))
            etc.chmod(0o700)
            peers = "".join(
                f"\n# friendly_name = old-{i}\n[Peer]\nPublicKey = {_key(i + 1)}\nAllowedIPs = {_ip(i + 2)}\n"
                for i in range(existing)
            )
            conf = etc / f"{daemon.ifname}.conf"
            conf.write_text(f"[Interface]\nAddress = 10.64.0.1/10\nListenPort = {daemon.listen_port}\n"
                            f"PrivateKey = {daemon.private_key}\n{peers}")
            conf.chmod(0o600)
            lab.addconf(daemon, peers)
            new = [(f"new-{i}", _key(existing + i + 1), _ip(existing + i + 2)) for i in range(added)]
            if way == "wgtui peer apply":
                rows = etc / "rows.json"
                rows.write_text(json.dumps([{"name": n, "public_key": k, "allowed_ips": [ip]} for n, k, ip in new]))
                auto = etc / "auto.json"
                auto.write_text(json.dumps([{"name": n, "public_key": k, "allowed_ips": "auto"} for n, k, _ in new]))
                before = conf.read_bytes()
                figures["dry run"] = statistics.median(
                    _apply(ns, daemon.ifname, rows, etc, "--dry-run") for _ in range(repeat))
                figures["dry run, auto"] = statistics.median(
                    _apply(ns, daemon.ifname, auto, etc, "--dry-run") for _ in range(repeat))
                assert conf.read_bytes() == before  # the dry runs changed nothing
                figures[way] = _apply(ns, daemon.ifname, rows, etc, "--yes")
                figures["again"] = _apply(ns, daemon.ifname, rows, etc, "--yes")  # idempotent: nothing to do
                absent = etc / "absent.json"
                absent.write_text(json.dumps([{"public_key": k, "state": "absent"} for _, k, _ in new]))
                figures["dry run, absent"] = statistics.median(
                    _apply(ns, daemon.ifname, absent, etc, "--dry-run") for _ in range(repeat))
            else:
                script = "".join(f"wg set {daemon.ifname} peer {k} allowed-ips {ip}\n"
                                 f"printf '\\n# friendly_name = {n}\\n[Peer]\\nPublicKey = {k}\\nAllowedIPs = {ip}\\n'"
                                 f" >> {conf}\n" for n, k, ip in new)
                started = time.perf_counter()
                subprocess.run(["ip", "netns", "exec", ns, "sh", "-e"], input=script, text=True, check=True,
                               timeout=600)
                figures[way] = time.perf_counter() - started
            assert len(lab.dump(daemon).peers) == existing + added
            assert conf.read_text().count("[Peer]") == existing + added
        loop = figures["wg set + append"]
        ratio = figures["wgtui peer apply"] / loop
        dry = figures["dry run"] / loop
        return [
            Result(BENCH, f"`wgtui peer apply --yes`: {added:,} new peers into {existing:,} (whole process)",
                   figures["wgtui peer apply"], "s", note="one plan, one lock, one journal, one runtime "
                   "transaction, one file write"),
            Result(BENCH, f"`wgtui peer apply --dry-run`, the same rows (whole process, median of {repeat})",
                   figures["dry run"], "s", note="read, check, plan and diff; nothing applied"),
            Result(BENCH, f"`wgtui peer apply --dry-run`, the same rows with `allowed_ips: auto` (median of {repeat})",
                   figures["dry run, auto"], "s", note=f"{added:,} addresses picked one after another"),
            Result(BENCH, "`wgtui peer apply --yes` again: nothing to do (whole process)", figures["again"], "s",
                   note="idempotent: every row already holds"),
            Result(BENCH, f"`wgtui peer apply --dry-run`: the {added:,} removed again (`state: absent`, median of "
                   f"{repeat})", figures["dry run, absent"], "s", note=f"{added:,} blocks out of the file in one pass"),
            Result(BENCH, f"the blog post's way: {added:,} × `wg set` + append to the file", loop, "s",
                   note="no preview, no check, no rollback, not idempotent"),
            Result(BENCH, "`wgtui peer apply --yes` ÷ the loop", ratio, "×", "< 1×", ratio < 1,
                   "same interface size, same machine, same run"),
            Result(BENCH, "`wgtui peer apply --dry-run` ÷ the loop", dry, "×", "", None, "the preview alone"),
        ]
    finally:
        lab.close()


if __name__ == "__main__":
    main_for(run)
