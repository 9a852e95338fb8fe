"""The fitted decision: a logistic regression over the features of features.py, read from coefficients.json.

Two fits ship: `text`, for a pair where either article has no vector yet (ingest stores text first), and `full`,
with the vectors' cosine. benchmarks/train_stories.py makes the file from benchmarks/stories/clusters.jsonl (every
pair of articles of a labelled set, so the probability reflects how rarely two articles of an archive report one
story); nothing in it is set by hand. A pair reports the same story when the probability is at least one half.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from communique.stories.features import Signature, pair_features

COEFFICIENTS = Path(__file__).with_name("coefficients.json")


@dataclass(frozen=True)
class Fit:
    features: tuple[str, ...]
    weights: tuple[float, ...]
    intercept: float

    def probability(self, a: Signature, b: Signature) -> float:
        z = self.intercept + sum(w * x for w, x in zip(self.weights, pair_features(a, b, self.features), strict=True))
        return 1.0 / (1.0 + math.exp(-z))


@dataclass(frozen=True)
class StoryModel:
    text: Fit
    full: Fit

    def probability(self, a: Signature, b: Signature) -> float:
        """How likely the two articles report the same story; with both vectors the full fit decides."""
        fit = self.full if a.vector is not None and b.vector is not None else self.text
        return fit.probability(a, b)


def _fit(doc: dict) -> Fit:
    return Fit(tuple(doc["features"]), tuple(float(w) for w in doc["weights"]), float(doc["intercept"]))


def model_from(doc: dict) -> StoryModel:
    """The model of a coefficients document (the shipped file's contents, or a fit being measured)."""
    return StoryModel(_fit(doc["text"]), _fit(doc["full"]))


@lru_cache(maxsize=4)
def load_model(path: Path = COEFFICIENTS) -> StoryModel:
    return model_from(json.loads(path.read_text(encoding="utf-8")))
