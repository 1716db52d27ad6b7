"""Provides sentences fitted to who runs wgtui: root is never told to start it with sudo."""

from __future__ import annotations

import re

_SENTENCE = re.compile(r".*?(?:[.!?](?=\s|$)|$)\s*", re.DOTALL)
_CLAUSE = re.compile(r"(?::\s|;\s|,\s|\s\()")
"""Where a sentence's advice may begin: after a colon, a semicolon, a comma or an opening parenthesis."""


def for_this_user(text: str | None, euid: int) -> str | None:
    """`text` without the advice to use sudo (or to run as root) when root reads it: advice that cannot help, whichever
    part of wgtui wrote it. A sentence keeps what it says before such advice ("… needs CAP_NET_ADMIN: run wgtui as
    root" keeps "… needs CAP_NET_ADMIN."); a sentence that is only advice goes."""
    if text is None or euid != 0:
        return text
    out = []
    for sentence in _SENTENCE.findall(text):
        if not sentence:
            continue
        if not _advises_root(sentence):
            out.append(sentence)
            continue
        cut = next((m.start() for m in _CLAUSE.finditer(sentence) if _advises_root(sentence[m.start():])
                    and not _advises_root(sentence[: m.start()])), None)
        if cut:
            out.append(sentence[:cut].rstrip() + ". ")
    return "".join(out).strip() or None


def _advises_root(sentence: str) -> bool:
    lowered = sentence.lower()
    return "sudo" in lowered or "as root" in lowered
