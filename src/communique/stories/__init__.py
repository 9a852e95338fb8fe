"""Stories: articles that report the same story, grouped one article at a time as they are stored.

    features.py  one named function per signal of a pair of articles (entities, words, title, days, vectors)
    model.py     the fitted logistic regression (coefficients.json, made by benchmarks/train_stories.py)
    changes.py   what changed between two reports of a story: figures that were revised
    store/stories.py keeps the stories in SQLite, in the transaction that writes or deletes an article

A new article joins the existing story whose closest article (within `WINDOW_DAYS`) the model rates most likely
to report the same story, if that probability is at least one half; otherwise it starts a story. Nothing is ever
regrouped from scratch: an edit, a delete or the arrival of an article's vectors moves that one article only.
"""

from communique.stories.features import WINDOW_DAYS, Signature
from communique.stories.model import StoryModel, load_model

__all__ = ["WINDOW_DAYS", "Signature", "StoryModel", "load_model"]
