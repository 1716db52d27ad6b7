"""Provides a unified diff of two file texts that shows line-ending and final-newline changes faithfully."""

from __future__ import annotations

import difflib

from .lines import split_lines

NO_NEWLINE = "\\ No newline at end of file\n"


def unified_diff(before: str, after: str, fromfile: str = "a", tofile: str = "b", context: int = 3) -> str:
    """A `diff -u` style patch ("" when the texts are equal). Lines keep their own endings, so a CRLF line
    stays CRLF in the patch, and a last line without a newline gets the usual `\\ No newline` marker."""
    old = [t + e for t, e in split_lines(before)]
    new = [t + e for t, e in split_lines(after)]
    out = []
    for line in difflib.unified_diff(old, new, fromfile, tofile, n=context, lineterm="\n"):
        out.append(line)
        if not line.endswith("\n"):
            out.append("\n" + NO_NEWLINE)
    return "".join(out)
