"""Provides shared helpers of the conf tests: corpus access, fixed keys and line-level diff summaries."""

from __future__ import annotations

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
