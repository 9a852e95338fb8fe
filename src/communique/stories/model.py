"""The fitted decision: a logistic regression over the features of features.py, read from coefficients.json.

Two fits ship: `text`, for a pair where either article has no vector yet (ingest stores text first), and `full`,
with the vectors' cosine. benchmarks/train_stories.py makes the file from benchmarks/stories/clusters.jsonl (every
pair of articles of a labelled set, so the probability reflects how rarely two articles of an archive report one
story); nothing in it is set by hand. Each fit weighs the features and their pairwise products, and carries the
threshold from which a pair is one story: the lowest probability at which the training sets' pairs, each predicted
by a fit without its set, reach the precision the grouping is held to (`benchmarks/train_stories.py`).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path

from communique.stories.features import Signature, pair_features

COEFFICIENTS = Path(__file__).with_name("coefficients.json")


@dataclass(frozen=True)
class Fit:
    features: tuple[str, ...]  # a feature of features.py, or a product of two ("entity_overlap*term_overlap")
    weights: tuple[float, ...]
    intercept: float
    threshold: float = 0.5  # the probability from which a pair is one story

    @cached_property
    def _base(self) -> tuple[str, ...]:
        """The features of features.py that the fit's terms multiply."""
        return tuple(sorted({part for name in self.features for part in name.split("*")}))

    def probability(self, a: Signature, b: Signature) -> float:
        value = dict(zip(self._base, pair_features(a, b, self._base), strict=True))
        x = [math.prod(value[part] for part in name.split("*")) for name in self.features]
        z = self.intercept + sum(w * v for w, v in zip(self.weights, x, strict=True))
        return 1.0 / (1.0 + math.exp(-z))


@dataclass(frozen=True)
class StoryModel:
    text: Fit
    full: Fit

    def fit_for(self, a: Signature, b: Signature) -> Fit:
        """With both vectors the full fit decides, else the text fit."""
        return self.full if a.vector is not None and b.vector is not None else self.text

    def probability(self, a: Signature, b: Signature) -> float:
        """How likely the two articles report the same story."""
        return self.fit_for(a, b).probability(a, b)

    def same_story(self, a: Signature, b: Signature) -> tuple[float, bool]:
        """The probability, and whether it reaches the deciding fit's threshold."""
        fit = self.fit_for(a, b)
        p = fit.probability(a, b)
        return p, p >= fit.threshold


def _fit(doc: dict) -> Fit:
    return Fit(tuple(doc["features"]), tuple(float(w) for w in doc["weights"]), float(doc["intercept"]),
               float(doc.get("threshold", 0.5)))


def model_from(doc: dict) -> StoryModel:
    """The model of a coefficients document (the shipped file's contents, or a fit being measured)."""
    return StoryModel(_fit(doc["text"]), _fit(doc["full"]))


@lru_cache(maxsize=4)
def load_model(path: Path = COEFFICIENTS) -> StoryModel:
    return model_from(json.loads(path.read_text(encoding="utf-8")))
