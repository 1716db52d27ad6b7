"""wgtui's own comment in a peer block: read back exactly, written beside the name, never anything but one comment."""

from __future__ import annotations

import pytest

from wgtui.conf import Document, ValidationError
from wgtui.conf.meta import all_meta, format_meta, parse_meta, parse_stamp, rotation_marks, stamp

from .helpers import NEW_KEY, NEW_KEY_2

BASE = f"""[Interface]
PrivateKey = yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=

[Peer]
# friendly_name = alice
PublicKey = {NEW_KEY}
AllowedIPs = 10.0.0.2/32

### Client bob
[Peer]
PublicKey = {NEW_KEY_2}
AllowedIPs = 10.0.0.3/32
"""


def test_items_read_back_and_other_comments_are_not_meta() -> None:
    assert parse_meta("# wgtui: key-created=2026-11-29T19:20:00Z replaces=ab+/c= junk") == {
        "key-created": "2026-11-29T19:20:00Z", "replaces": "ab+/c="}
    assert parse_meta("# friendly_name = wgtui: x=y") is None and parse_meta("#wgtui:") == {}
    assert parse_stamp(stamp(1_795_609_500)) == 1_795_609_500 and parse_stamp("yesterday") is None


@pytest.mark.parametrize("bad", [{"Key": "v"}, {"k": "two words"}, {"k": "x\nPostUp = id"}, {"k": "a#b"}])
def test_nothing_but_one_comment_can_be_written(bad: dict[str, str]) -> None:
    with pytest.raises(ValidationError):
        format_meta(bad)


def test_set_meta_goes_below_the_name_and_merges() -> None:
    doc = Document.parse(BASE)
    one = doc.set_peer_meta(NEW_KEY, {"key-created": stamp(1_795_609_500)})
    lines = one.render().splitlines()
    assert lines[3:6] == ["[Peer]", "# friendly_name = alice", "# wgtui: key-created=2026-11-25T12:25:00Z"]
    two = one.set_peer_meta(NEW_KEY, {"replaces": NEW_KEY_2, "since": "2026-11-29T19:20:00Z"})
    assert all_meta(two)[NEW_KEY] == {"key-created": "2026-11-25T12:25:00Z", "replaces": NEW_KEY_2,
                                      "since": "2026-11-29T19:20:00Z"}
    assert list(rotation_marks(two)) == [NEW_KEY] and rotation_marks(two)[NEW_KEY].old_key == NEW_KEY_2
    # bob's name sits above his header (angristan): the comment goes right under the header.
    three = two.set_peer_meta(NEW_KEY_2, {"key-created": "2026-01-01T00:00:00Z"})
    assert "### Client bob\n[Peer]\n# wgtui: key-created=2026-01-01T00:00:00Z\n" in three.render()
    # Removing every item removes the line; the file is back byte for byte.
    back = three.set_peer_meta(NEW_KEY_2, {"key-created": None}).set_peer_meta(
        NEW_KEY, {"key-created": None, "replaces": None, "since": None})
    assert back.render() == BASE
    assert back.remove_peer(NEW_KEY).render().count("[Peer]") == 1
