"""Provides the cyclic garbage collector's settings for wgtui's interactive processes (the dashboard, the fleet)."""

# Measured at 10,000 peers (benchmarks/README.md, round four): with the default first threshold (700 objects) the
# collector ran ~7 times a second, walking each poll's and each frame's short-lived objects again and again; its
# passes cost ~6 ms a second in all, a third of it inside the UI tick, and in one change step of three a full pass
# of 0.1-0.25 s. With 10,000 most of those objects are freed by reference counting before a pass sees them: ~1.6 ms
# a second, ~0.1 ms of it in the tick, and full passes ten times rarer. Cyclic garbage waits longer to be freed:
# at most ~10,000 objects (a few MB), which the dashboard's ~100 MB does not notice.

from __future__ import annotations

import gc

from wgtui.conf import lines

INTERACTIVE_THRESHOLD = 10_000
"""Net new container objects between two young collections in the dashboard (Python's default is 700)."""


def for_interactive() -> None:
    """Raise the first threshold of the collector to INTERACTIVE_THRESHOLD (never lower it; the others stay), and
    keep large documents from being frozen out of it (conf.lines.leave_to_collector: the screens alive at that
    moment would be frozen with them, and never freed)."""
    lines.leave_to_collector()
    young, middle, old = gc.get_threshold()
    if young < INTERACTIVE_THRESHOLD:
        gc.set_threshold(INTERACTIVE_THRESHOLD, middle, old)


SETTLE_S = 0.5
"""Seconds after a change flow ends (its last dialog dismissed) before its garbage is collected, if nothing else
was opened meanwhile: the user is reading the result, not waiting on a key."""


def collect_after_flow() -> int:
    """A full collection, at a moment nobody waits: a change flow's dialogs are cyclic garbage once dismissed
    (~27,000 objects for the add form, its preview and its client config). Left to the collector's own schedule, a
    pass over them came at a random later moment: measured at 10,000 peers, inside the next form's opening
    (0.03-0.06 s of it) or a UI tick. Done here it costs 0.02-0.07 s at 10,000 peers while the dashboard is idle.
    Not where a very large document waits to be frozen (freeze_when_asked): that collects too, and at ~50,000 peers
    and more a pass costs up to a second, so there is one, not two. The objects collected."""
    if lines.freeze_asked():
        return 0
    return gc.collect()


def freeze_when_asked() -> bool:
    """Where large documents are left to the process (for_interactive): if a very large one was made since the last
    time (conf.lines._ASK_AFTER: ~50,000 peers), collect what is garbage now, then freeze what is alive, so that the
    collector's later full passes do not walk those documents again (~1 s a pass at 100,000 peers). To be called
    when what is alive lives on: the dashboard alone on screen, no dialog and no notification; even then ~2,000
    objects frozen now go later and are never freed (the footer's keys, rebuilt when the focus moves). True when it
    froze."""
    if not lines.freeze_asked(clear=True):
        return False
    gc.collect()
    gc.freeze()
    return True
