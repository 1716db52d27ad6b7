"""Provides shared helpers of the conf tests: corpus access, fixed keys and line-level diff summaries."""

from __future__ import annotations

import base64
import random
from pathlib import Path

from wgtui.conf import Document

CORPUS = Path(__file__).parent / "corpus"

# Fixed keys that appear in no corpus file, so adds never collide.
NEW_KEY = "Ji7pLSr8tn2YUR4rNfAjjU5VUqDbEcF1Ikpd97cySQc="
NEW_KEY_2 = "Mv1kR1lhZi6oe5mpYH0sS5Y6Im8C1sVHv4k3iWzzFWY="
NEW_PSK = "uZ2sG8t8hC4y0l8qB9H8y5o1g5a2e4H8c1m1N2d3r0Q="


def corpus_files() -> list[Path]:
    return sorted(CORPUS.glob("*.conf"))


def raw(name: str) -> bytes:
    return (CORPUS / name).read_bytes()


def text(name: str) -> str:
    return raw(name).decode("utf-8")


def load(name: str) -> Document:
    return Document.from_bytes(raw(name))


def changed_lines(before: Document, after: Document) -> list[int]:
    """Indices of lines whose raw text differs, for two documents of the same length."""
    assert len(before.lines) == len(after.lines)
    return [i for i, (a, b) in enumerate(zip(before.lines, after.lines, strict=True)) if a.raw != b.raw]


def big_file(rng: random.Random, n: int, convention: int) -> str:
    """A wg-quick file of `n` peers named in one of four conventions, some with preshared keys, IPv6 and keepalives."""
    out = ["[Interface]", "PrivateKey = " + random_key(rng), "Address = 10.0.0.1/16, fd00::1/64", ""]
    for i in range(n):
        out += [[f"# friendly_name = p{i}", f"### Client p{i}", f"# BEGIN_PEER p{i}", "# Name: x"][convention],
                "[Peer]", f"PublicKey = {random_key(rng)}"]
        if rng.random() < 0.3:
            out.append(f"PresharedKey = {random_key(rng)}")
        out.append(f"AllowedIPs = 10.0.{i // 250}.{i % 250 + 2}/32" + (f", fd00::{i + 2:x}/128" if i % 3 else ""))
        if rng.random() < 0.3:
            out.append("PersistentKeepalive = 25")
        if convention == 2:
            out.append(f"# END_PEER p{i}")
        out.append("")
    return rng.choice(["\n", "\r\n"]).join(out)


def random_key(rng: random.Random) -> str:
    return base64.b64encode(rng.randbytes(32)).decode()
