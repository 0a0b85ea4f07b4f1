"""The thread-count tuner's rules (the measurement itself runs with the real model in
``test_llama_model.py``)."""

from __future__ import annotations

from workbench.engine.backends.llama_threads import ThreadTuner, candidates


def test_candidates() -> None:
    assert candidates(1) == [1]
    assert candidates(2) == [1, 2]
    assert candidates(8) == [1, 4, 8]


def test_a_configured_count_is_never_measured() -> None:
    tuner = ThreadTuner(fixed=3, cores=8)
    assert not tuner.enabled and tuner.threads == 3
    tuner.report(100, 0.1)
    assert not tuner.needs_retune
    assert not ThreadTuner(fixed=None, cores=1).enabled


def test_two_slow_generations_in_a_row_ask_for_a_new_measurement() -> None:
    tuner = ThreadTuner(fixed=None, cores=2)
    tuner.expected = 30.0
    tuner.report(41, 1.0)  # 40 tok/s: fine
    tuner.report(11, 1.0)  # 10 tok/s: slow once
    assert not tuner.needs_retune
    tuner.report(4, 1.0)  # too short to say anything
    assert not tuner.needs_retune
    tuner.report(11, 1.0)
    assert tuner.needs_retune
    tuner.report(61, 1.0)  # fast again
    assert not tuner.needs_retune
