"""Prediction with a LightGBM model from its text file, in numpy: the answerer needs no LightGBM at run time.

LightGBM (used to train, by benchmarks/train_answerer.py) writes each tree as arrays of split features,
thresholds, children and leaf values. A row goes left where its feature is at most the threshold (missing
values follow the tree's default direction), or, at a categorical split, where its category is in the split's
bit set; the score is the sum of its leaves, and for a binary objective the probability is its sigmoid. The
training script checks that these predictions equal LightGBM's own.

All trees are laid end to end in one set of arrays, so that every row walks every tree at once: a prediction
costs one numpy step per level of the deepest tree, not one per level of each of hundreds of trees.
"""

from __future__ import annotations

import numpy as np

_DEFAULT_LEFT = 2  # decision_type bits: 1 categorical, 2 default left, 4·k missing type (0 none, 1 zero, 2 NaN)


class TreeModel:
    """A LightGBM model's trees; `predict` gives probabilities for a binary objective, raw scores otherwise."""

    def __init__(self, text: str) -> None:
        self.binary = False
        parts: dict[str, list[np.ndarray]] = {k: [] for k in (
            "feature", "threshold", "default_left", "missing", "left", "right", "categorical", "cat_start",
            "cat_size", "leaf")}
        roots: list[int] = []
        inner_at = leaf_at = bits_at = 0
        bits: list[np.ndarray] = []
        for block in text.split("\n\n"):
            fields = dict(line.split("=", 1) for line in block.splitlines() if "=" in line)
            if "objective" in fields and "Tree" not in fields:
                self.binary = fields["objective"].startswith("binary")
            if "Tree" not in fields or "leaf_value" not in fields:
                continue

            def ints(key: str, f: dict[str, str] = fields) -> np.ndarray:
                return np.array(f[key].split(), dtype=np.int64) if f.get(key) else np.zeros(0, dtype=np.int64)

            def globalised(child: np.ndarray, inner: int = inner_at, leaves: int = leaf_at) -> np.ndarray:
                """A tree's child indices, in the joined arrays: inner nodes count up, leaves are ~index."""
                return np.where(child >= 0, child + inner, ~(~child + leaves))

            leaf = np.array(fields["leaf_value"].split(), dtype=np.float64)
            feature = ints("split_feature")
            decision = ints("decision_type")
            threshold = np.array(fields["threshold"].split(), dtype=np.float64) if fields.get("threshold") \
                else np.zeros(0)
            categorical = (decision & 1) > 0
            boundaries, tree_bits = ints("cat_boundaries"), ints("cat_threshold")
            split = np.where(categorical, threshold, 0).astype(np.int64)
            has_bits = len(boundaries) > 1
            cat_start = np.where(categorical, bits_at + boundaries[split], 0) if has_bits else np.zeros_like(split)
            cat_size = np.where(categorical, boundaries[split + 1] - boundaries[split], 0) if has_bits \
                else np.zeros_like(split)

            roots.append(inner_at if len(feature) else ~leaf_at)
            # a categorical split's missing type is kept in the same bits; it goes right when missing, as LightGBM
            parts["missing"].append(np.where(categorical, 0, (decision >> 2) & 3))
            parts["feature"].append(feature)
            parts["threshold"].append(threshold)
            parts["default_left"].append((decision & _DEFAULT_LEFT) > 0)
            parts["left"].append(globalised(ints("left_child")))
            parts["right"].append(globalised(ints("right_child")))
            parts["categorical"].append(categorical)
            parts["cat_start"].append(cat_start)
            parts["cat_size"].append(cat_size)
            parts["leaf"].append(leaf)
            bits.append(tree_bits)
            inner_at, leaf_at, bits_at = inner_at + len(feature), leaf_at + len(leaf), bits_at + len(tree_bits)
        joined = {k: np.concatenate(v) if v else np.zeros(0) for k, v in parts.items()}
        self.feature = joined["feature"].astype(np.int64)
        self.threshold = joined["threshold"].astype(np.float64)
        self.default_left = joined["default_left"].astype(bool)
        self.missing = joined["missing"].astype(np.int64)
        self.left, self.right = joined["left"].astype(np.int64), joined["right"].astype(np.int64)
        self.categorical = joined["categorical"].astype(bool)
        self.cat_start, self.cat_size = joined["cat_start"].astype(np.int64), joined["cat_size"].astype(np.int64)
        self.leaf = joined["leaf"].astype(np.float64)
        self.bits = np.concatenate(bits).astype(np.int64) if bits else np.zeros(1, dtype=np.int64)
        self.roots = np.array(roots, dtype=np.int64)

    def _in_set(self, at: np.ndarray, value: np.ndarray) -> np.ndarray:
        """For categorical splits: is the category (a non-negative integer) in the split's bit set?"""
        category = np.where(np.isnan(value) | (value < 0), -1, np.nan_to_num(value, nan=-1.0)).astype(np.int64)
        word = category // 32
        ok = (category >= 0) & (word < self.cat_size[at])
        words = self.bits[np.where(ok, self.cat_start[at] + word, 0)]
        return ok & (((words >> (category % 32)) & 1) == 1)

    def predict(self, x: np.ndarray) -> np.ndarray:
        x = np.atleast_2d(np.asarray(x, dtype=np.float64))
        n, trees = len(x), len(self.roots)
        node = np.tile(self.roots, n)  # row-major: every row's walk through every tree
        rows = np.repeat(np.arange(n), trees)
        inner = np.flatnonzero(node >= 0)
        while len(inner):
            at = node[inner]
            value = x[rows[inner], self.feature[at]]
            nan = np.isnan(value)
            kind = self.missing[at]
            is_missing = np.where(kind == 2, nan, np.where(kind == 1, nan | (value == 0), False))
            go_left = np.where(is_missing, self.default_left[at], np.nan_to_num(value, nan=0.0) <= self.threshold[at])
            cat = self.categorical[at]
            if cat.any():
                go_left = np.where(cat, self._in_set(at, value), go_left)
            node[inner] = np.where(go_left, self.left[at], self.right[at])
            inner = inner[node[inner] >= 0]
        raw = self.leaf[~node].reshape(n, trees).sum(axis=1) if trees else np.zeros(n)
        return 1.0 / (1.0 + np.exp(-raw)) if self.binary else raw
