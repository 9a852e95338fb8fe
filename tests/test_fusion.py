"""The ranking math on hand-made inputs: reciprocal rank fusion, recency decay, per-group caps, MMR."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from communique.retrieve.fusion import cap_per_group, mmr, recency_weight, reciprocal_rank_fusion


def test_rrf_exact_scores_with_k60() -> None:
    fused = reciprocal_rank_fusion([["a", "b", "c"], ["b", "c", "d"]])
    assert [key for key, _ in fused] == ["b", "c", "a", "d"]
    scores = dict(fused)
    assert scores["b"] == pytest.approx(1 / 62 + 1 / 61, rel=1e-12)
    assert scores["c"] == pytest.approx(1 / 63 + 1 / 62, rel=1e-12)
    assert scores["a"] == pytest.approx(1 / 61, rel=1e-12)
    assert scores["d"] == pytest.approx(1 / 63, rel=1e-12)


def test_rrf_other_k_and_single_list() -> None:
    fused = reciprocal_rank_fusion([[10, 20, 30]], k=1)
    assert fused == [(10, pytest.approx(1 / 2)), (20, pytest.approx(1 / 3)), (30, pytest.approx(1 / 4))]


def test_rrf_ties_keep_first_seen_order() -> None:
    fused = reciprocal_rank_fusion([["x", "z"], ["y", "w"]])
    assert [key for key, _ in fused] == ["x", "y", "z", "w"]
    assert fused[0][1] == fused[1][1] == pytest.approx(1 / 61)


def test_rrf_weights() -> None:
    fused = reciprocal_rank_fusion([["a", "b"], ["b", "a"]], weights=[2.0, 1.0])
    scores = dict(fused)
    assert [key for key, _ in fused] == ["a", "b"]
    assert scores["a"] == pytest.approx(2 / 61 + 1 / 62)
    assert scores["b"] == pytest.approx(2 / 62 + 1 / 61)
    muted = dict(reciprocal_rank_fusion([["a"], ["b"]], weights=[0.0, 1.0]))
    assert muted == {"a": 0.0, "b": pytest.approx(1 / 61)}
    with pytest.raises(ValueError):
        reciprocal_rank_fusion([["a"], ["b"]], weights=[1.0])


def test_rrf_empty_inputs() -> None:
    assert reciprocal_rank_fusion([]) == []
    assert reciprocal_rank_fusion([[], []]) == []
    assert [k for k, _ in reciprocal_rank_fusion([[], ["q"]])] == ["q"]


@pytest.mark.parametrize(
    ("published", "expected"),
    [
        (date(2026, 11, 23), 1.0),
        (date(2026, 10, 24), 0.5),
        (date(2026, 9, 24), 0.25),
        (date(2026, 11, 8), 0.5 ** 0.5),
        (date(2026, 12, 25), 1.0),  # dated after as_of: no bonus above 1
        (None, 0.5),  # unknown date: one half-life
    ],
)
def test_recency_weight(published: date | None, expected: float) -> None:
    assert recency_weight(published, date(2026, 11, 23)) == pytest.approx(expected)


def test_recency_weight_half_life() -> None:
    assert recency_weight(date(2026, 11, 16), date(2026, 11, 23), half_life_days=7) == pytest.approx(0.5)
    as_of = date(2026, 11, 23)
    older, newer = recency_weight(date(2025, 1, 1), as_of), recency_weight(date(2026, 1, 1), as_of)
    assert 0 < older < newer < 1


def test_cap_per_group() -> None:
    items = [1, 2, 3, 4, 5, 6]
    group = {1: "A", 2: "A", 3: "B", 4: "A", 5: "B", 6: "B"}
    assert cap_per_group(items, group, 1) == [1, 3]
    assert cap_per_group(items, group, 2) == [1, 2, 3, 5]
    assert cap_per_group(items, group, 10) == items
    assert cap_per_group(items, group, 0) == []
    assert cap_per_group(["a", "b", "a", "c", "b"], None, 1) == ["a", "b", "c"]  # no groups: dedup


def normalise(m: np.ndarray) -> np.ndarray:
    return m / np.linalg.norm(m, axis=-1, keepdims=True)


def test_mmr_picks_diverse_rows() -> None:
    query = normalise(np.array([1.0, 0.0, 0.0]))
    candidates = normalise(np.array([
        [1.0, 0.10, 0.0],   # 0: most relevant
        [1.0, 0.11, 0.0],   # 1: a near copy of 0
        [0.8, 0.0, 0.6],    # 2: relevant, different
        [0.0, 1.0, 0.0],    # 3: irrelevant
    ]))
    assert mmr(query, candidates, 2, lambda_=0.5) == [0, 2]
    assert mmr(query, candidates, 3, lambda_=0.5)[:2] == [0, 2]
    # With lambda 1 there is no diversity term: plain relevance order.
    assert mmr(query, candidates, 3, lambda_=1.0) == [0, 1, 2]


def test_mmr_edge_cases() -> None:
    query = normalise(np.array([1.0, 0.0]))
    candidates = normalise(np.array([[1.0, 0.0], [0.0, 1.0]]))
    assert mmr(query, np.empty((0, 2)), 3) == []
    assert sorted(mmr(query, candidates, 5)) == [0, 1]  # k larger than the pool
    assert mmr(query, candidates, 0) == []
    # Relevance given explicitly overrides the dot product with the query.
    assert mmr(query, candidates, 1, relevance=np.array([0.1, 0.9])) == [1]
