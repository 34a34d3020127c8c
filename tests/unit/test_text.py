"""Platform-written text fitted into its column: cut visibly, never silently."""

from __future__ import annotations

from carbon_market.kernel.text import ELLIPSIS, clip, clip_start


def test_text_that_fits_is_kept_whole():
    assert clip("x" * 500) == "x" * 500
    assert clip_start("y" * 40, 40) == "y" * 40


def test_longer_text_keeps_its_start_and_ends_with_an_ellipsis():
    text = "a" * 499 + "bc"  # 501 characters
    clipped = clip(text)
    assert len(clipped) == 500
    assert clipped == "a" * 499 + ELLIPSIS


def test_clip_start_keeps_the_end_behind_an_ellipsis():
    trace = "Traceback …\n" + "frame\n" * 20 + "ValueError: the useful line"
    clipped = clip_start(trace, 40)
    assert len(clipped) == 40
    assert clipped.startswith(ELLIPSIS)
    assert clipped.endswith("ValueError: the useful line")
