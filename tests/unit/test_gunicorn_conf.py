"""The verifier's gunicorn settings: each worker goes to the least used core."""

from __future__ import annotations

from verifier.gunicorn_conf import choose_cpu


def test_each_worker_takes_the_least_used_core() -> None:
    assert choose_cpu({0, 1}, []) == 0
    assert choose_cpu({0, 1}, [{0}]) == 1
    assert choose_cpu({0, 1}, [{0}, {1}]) == 0
    assert choose_cpu({2, 3, 5}, [{2}, {3}]) == 5
    # a restarted worker takes the core its predecessor left; unpinned siblings do not count
    assert choose_cpu({0, 1}, [{1}, {0, 1}]) == 0


def test_one_core_is_not_pinned() -> None:
    assert choose_cpu({0}, []) is None
    assert choose_cpu(set(), [{0}]) is None
