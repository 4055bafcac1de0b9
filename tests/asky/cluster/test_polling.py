"""The wait cadence: quick to notice a change, gentle on the API during a long wait."""

from __future__ import annotations

from asky_scripts.cluster.polling import tick_period


def test_a_short_wait_looks_every_tenth_of_a_second() -> None:
    assert tick_period(0.0) == tick_period(9.9) == 0.1


def test_a_long_wait_stretches_to_one_look_per_second() -> None:
    assert 0.1 < tick_period(15.0) < 1.0
    assert tick_period(60.0) == tick_period(300.0) == 1.0
