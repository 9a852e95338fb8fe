"""Prediction with a LightGBM model from its text file, in numpy: the answerer needs no LightGBM at run time.

LightGBM (used to train, by benchmarks/train_answerer.py) writes each tree as arrays of split features,
thresholds, children and leaf values. A row goes left where its feature is at most the threshold (missing
values follow the tree's default direction), or, at a categorical split, where its category is in the split's
bit set; the score is the sum of its leaves, and for a binary objective the probability is its sigmoid. The
training script checks that these predictions equal LightGBM's own.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

_DEFAULT_LEFT = 2  # decision_type bits: 1 categorical, 2 default left, 4·k missing type (0 none, 1 zero, 2 NaN)


@dataclass
class Tree:
    feature: np.ndarray
    threshold: np.ndarray
    default_left: np.ndarray
    missing: np.ndarray
    left: np.ndarray
    right: np.ndarray
    leaf: np.ndarray
    categorical: np.ndarray  # per inner node: a categorical split, whose threshold indexes `boundaries`
    boundaries: np.ndarray  # where each categorical split's bit set starts in `bits` (32-bit words)
    bits: np.ndarray

    def _in_set(self, at: np.ndarray, value: np.ndarray) -> np.ndarray:
        """For categorical splits: is the category (a non-negative integer) in the split's bit set?"""
        category = np.where(np.isnan(value) | (value < 0), -1, np.nan_to_num(value, nan=-1.0)).astype(np.int64)
        split = np.where(self.categorical[at], self.threshold[at], 0).astype(np.int64)
        start = self.boundaries[split]
        size = self.boundaries[split + 1] - start
        word = category // 32
        ok = (category >= 0) & (word < size)
        words = self.bits[np.where(ok, start + word, 0)]
        return ok & (((words >> (category % 32)) & 1) == 1)

    def predict(self, x: np.ndarray) -> np.ndarray:
        if len(self.feature) == 0:  # a single leaf
            return np.full(len(x), self.leaf[0])
        node = np.zeros(len(x), dtype=np.int64)  # >= 0: an inner node; < 0: ~leaf
        rows = np.arange(len(x))
        while True:
            inner = node >= 0
            if not inner.any():
                return self.leaf[~node]
            at = node[inner]
            value = x[rows[inner], self.feature[at]]
            nan = np.isnan(value)
            kind = self.missing[at]
            is_missing = np.where(kind == 2, nan, np.where(kind == 1, nan | (value == 0), False))
            numeric = np.where(is_missing, self.default_left[at], np.nan_to_num(value, nan=0.0) <= self.threshold[at])
            cat = self.categorical[at]
            go_left = np.where(cat, self._in_set(at, value) if cat.any() else False, numeric)
            node[inner] = np.where(go_left, self.left[at], self.right[at])


class TreeModel:
    """A LightGBM model's trees; `predict` gives probabilities for a binary objective, raw scores otherwise."""

    def __init__(self, text: str) -> None:
        self.trees: list[Tree] = []
        self.binary = False
        for block in text.split("\n\n"):
            fields = dict(line.split("=", 1) for line in block.splitlines() if "=" in line)
            if "objective" in fields and "Tree" not in fields:
                self.binary = fields["objective"].startswith("binary")
            if "Tree" in fields and "leaf_value" in fields:
                self.trees.append(self._tree(fields))

    @staticmethod
    def _tree(f: dict[str, str]) -> Tree:
        def ints(key: str) -> np.ndarray:
            return np.array(f[key].split(), dtype=np.int64) if f.get(key) else np.zeros(0, dtype=np.int64)

        decision = ints("decision_type")
        threshold = np.array(f["threshold"].split(), dtype=np.float64) if f.get("threshold") else np.zeros(0)
        categorical = (decision & 1) > 0
        # a categorical split's missing type is kept in the same bits; it goes right when missing, as LightGBM does
        missing = np.where(categorical, 0, (decision >> 2) & 3)
        return Tree(ints("split_feature"), threshold, (decision & _DEFAULT_LEFT) > 0, missing, ints("left_child"),
                    ints("right_child"), np.array(f["leaf_value"].split(), dtype=np.float64), categorical,
                    ints("cat_boundaries"), ints("cat_threshold"))

    def predict(self, x: np.ndarray) -> np.ndarray:
        x = np.atleast_2d(np.asarray(x, dtype=np.float64))
        raw = np.zeros(len(x))
        for tree in self.trees:
            raw += tree.predict(x)
        return 1.0 / (1.0 + np.exp(-raw)) if self.binary else raw
