"""Suggested intents: the messages the model abstained on, grouped by meaning.

Pure: texts in, groups out; no ORM. Each message is cleaned as the model cleans it and turned
into the model's own word vectors plus its TF-IDF words, so that "gift card balance" and "how
much is left on my gift card" meet. Agglomerative clustering with a cosine distance threshold
needs no number of groups up front, which nobody knows for the messages a model could not
place; groups smaller than `min_size` are left out as noise. Each group is named by the words
that set it apart from the other abstained messages (class-based TF-IDF), as a proposal.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.cluster import AgglomerativeClustering
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, TfidfVectorizer
from sklearn.preprocessing import normalize

from . import word_vectors
from .text_cleaning import clean_text

# Cosine distance under which messages join a group, chosen on BANKING77 (docs/benchmarks.md,
# "Suggested intents"): at 0.7 a group holds one intent 88-91 % of the way (homogeneity) with
# 94-95 % of the messages placed; lower splits paraphrases apart, higher merges requests that
# should become different intents, which is the costlier mistake here.
DISTANCE_THRESHOLD = 0.7
# Words of the masks `clean_text` puts in place of identifiers: never a name for an intent.
_MASKS = {"ordernum", "amount", "email", "url", "trackingnum", "number", "phone"}
_STOP_WORDS = sorted(ENGLISH_STOP_WORDS | _MASKS | {"hi", "hello", "thanks", "thank", "please"})


@dataclass(frozen=True)
class SuggestedGroup:
    name: str  # a proposed intent name: "gift_card_balance"
    members: list[int]  # indexes into the texts, most typical first
    keywords: list[str]

    @property
    def size(self) -> int:
        return len(self.members)


def _features(cleaned: Sequence[str]) -> tuple[np.ndarray, TfidfVectorizer, object]:
    tfidf = TfidfVectorizer(stop_words=_STOP_WORDS, min_df=1, sublinear_tf=True)
    words = tfidf.fit_transform(cleaned)
    try:
        vectors = word_vectors.load().embed(cleaned)
    except word_vectors.WordVectorsUnavailable:
        vectors = np.zeros((len(cleaned), 0), dtype=np.float32)
    # The vectors carry meaning, the words carry the exact terms ("warranty"); equal weight.
    combined = np.hstack([normalize(words.toarray()), vectors])
    return normalize(combined), tfidf, words


def _name(keywords: list[str], typical: str) -> str:
    """The three words that set the group apart, in the order its most typical message says
    them ("gift card balance", not "card gift balance")."""
    words = typical.split()
    top = sorted(keywords[:3], key=lambda word: words.index(word) if word in words else len(words))
    return "_".join(top) or "new_intent"


def suggest_groups(
    texts: Sequence[str],
    *,
    min_size: int = 3,
    max_groups: int = 20,
    distance_threshold: float = DISTANCE_THRESHOLD,
) -> list[SuggestedGroup]:
    """Groups of at least `min_size` texts that mean the same, the largest first, at most
    `max_groups`. Texts that clean to nothing (a greeting alone) join no group."""
    cleaned = [clean_text(text) for text in texts]
    usable = [index for index, text in enumerate(cleaned) if text.strip()]
    if len(usable) < max(min_size, 2):
        return []
    try:
        features, tfidf, words = _features([cleaned[index] for index in usable])
    except ValueError:  # nothing but stop words
        return []
    labels = AgglomerativeClustering(
        n_clusters=None,
        metric="cosine",
        linkage="average",
        distance_threshold=distance_threshold,
    ).fit_predict(features)
    vocabulary = np.asarray(tfidf.get_feature_names_out())
    overall = np.asarray(words.mean(axis=0)).ravel()
    groups = []
    for label in np.unique(labels):
        rows = np.flatnonzero(labels == label)
        if len(rows) < min_size:
            continue
        centroid = features[rows].mean(axis=0)
        typical = rows[np.argsort(-(features[rows] @ centroid))]
        # Class-based TF-IDF: how much more a word weighs in this group than among all.
        weight = np.asarray(words[rows].mean(axis=0)).ravel() - overall
        keywords = [str(vocabulary[i]) for i in np.argsort(-weight)[:5] if weight[i] > 0]
        groups.append(
            SuggestedGroup(
                name=_name(keywords, cleaned[usable[typical[0]]]),
                members=[usable[row] for row in typical],
                keywords=keywords,
            )
        )
    groups.sort(key=lambda group: (-group.size, group.name))
    return groups[:max_groups]
