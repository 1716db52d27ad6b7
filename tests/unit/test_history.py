"""History ring buffers: buckets by wall clock, lazy zeroing of skipped time, bounded size."""

from wgtui.history import BUCKET_SECONDS, BUCKETS, History


def test_add_and_series_line_up_with_time() -> None:
    h = History()
    t0 = 1_000_000.0
    h.add(t0, 100, 10)
    h.add(t0 + 1, 50, 5)
    h.add(t0 + BUCKET_SECONDS, 7, 1)
    rx, tx = h.series(t0 + BUCKET_SECONDS)
    assert len(rx) == BUCKETS and rx[-1] == 7 and rx[-2] == 150 and tx[-2] == 15
    assert sum(rx) == 157


def test_old_traffic_falls_out_after_ten_minutes() -> None:
    h = History()
    t0 = 1_000_000.0
    h.add(t0, 100, 0)
    rx, _ = h.series(t0 + BUCKETS * BUCKET_SECONDS - 1)
    assert sum(rx) == 100
    rx, _ = h.series(t0 + BUCKETS * BUCKET_SECONDS + BUCKET_SECONDS)
    assert sum(rx) == 0
    h.add(t0 + 3 * BUCKETS * BUCKET_SECONDS, 5, 0)  # a long gap zeroes stale buckets
    rx, _ = h.series(t0 + 3 * BUCKETS * BUCKET_SECONDS)
    assert sum(rx) == 5
