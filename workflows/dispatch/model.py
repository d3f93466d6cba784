"""The text model behind dispatch suggestions: character n-gram TF-IDF and a linear classifier.

Character n-grams (1–3, inside word boundaries) need no dictionary, so colloquial words and typos
(井盖儿, 窨井盖, 处里) still share most of their n-grams with the words they stand for. The model is linear, so
each suggestion can be explained: the n-grams of the report whose TF-IDF weight times the class coefficient
added most to that class's score. The training matrix is kept for the nearest similar cases (cosine).
"""
from __future__ import annotations

import dataclasses
import re
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:   # scikit-learn is imported when a model is trained or loaded, not by every `minqing` command
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import SGDClassifier

BLANK = re.compile(r"\s+")


@dataclasses.dataclass
class Sample:
    text: str
    label: str                     # the category code
    weight: float = 1.0
    case_id: int | None = None     # None: a category's own title (cold start), never shown as a similar case
    title: str = ""
    closed: bool = False
    at: object = None              # when it was reported (for the time split)


@dataclasses.dataclass
class TextModel:
    vectorizer: TfidfVectorizer
    classifier: SGDClassifier | None   # None when history holds a single category
    labels: list[str]
    matrix: object                 # TF-IDF rows of the training cases (for similar cases)
    case_ids: list[int | None]
    closed: list[bool]

    def rank(self, text: str, k: int = 3) -> list[tuple[str, float]]:
        """The k most likely category codes for `text`, with their probabilities."""
        if self.classifier is None:
            return [(self.labels[0], 1.0)]
        probabilities = self.classifier.predict_proba(self.vectorizer.transform([clean(text)]))[0]
        order = np.argsort(-probabilities)[:k]
        return [(str(self.classifier.classes_[i]), float(probabilities[i])) for i in order]

    def evidence(self, text: str, label: str, n: int = 5) -> list[tuple[str, float]]:
        """The n-grams of `text` that weighed most for `label`: (n-gram, contribution), largest first.

        A shorter n-gram inside a longer one already shown is left out: "井盖" says more than "井" and "盖"."""
        if self.classifier is None:
            return []
        row = self.vectorizer.transform([clean(text)])
        classes = list(self.classifier.classes_)
        coefficients = self.classifier.coef_[classes.index(label) if len(classes) > 2 else 0]
        if len(classes) == 2 and label == classes[0]:
            coefficients = -coefficients
        names = self.vectorizer.get_feature_names_out()
        scored = sorted(((float(value * coefficients[j]), names[j].replace(" ", "").strip()) for j, value in
                         zip(row.indices, row.data, strict=True)), reverse=True)
        chosen: list[tuple[str, float]] = []
        for contribution, gram in scored:
            if contribution <= 0 or len(chosen) >= n:
                break
            if gram and not any(gram in longer for longer, _ in chosen):
                chosen.append((gram, round(contribution, 4)))
        return chosen

    def similar(self, text: str, limit: int = 50) -> list[tuple[int, float]]:
        """Closed training cases nearest to `text` by TF-IDF cosine: (case id, similarity), nearest first."""
        if self.matrix is None or self.matrix.shape[0] == 0:
            return []
        scores = (self.matrix @ self.vectorizer.transform([clean(text)]).T).toarray().ravel()
        order = np.argsort(-scores)
        return [(self.case_ids[i], float(scores[i])) for i in order[:limit * 2]
                if self.case_ids[i] is not None and self.closed[i] and scores[i] > 0][:limit]


def clean(text: str) -> str:
    return BLANK.sub(" ", text or "").strip()


def fit(samples: list[Sample], *, tokens: str = "chars", max_features: int = 60_000) -> TextModel:
    """Train on `samples` (at least one). `tokens`: "chars" (character 1–3-grams) or "words" (jieba words and
    word pairs). Tiny histories get min_df=1; larger ones drop n-grams seen once."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import SGDClassifier
    from threadpoolctl import threadpool_limits

    texts = [clean(sample.text) for sample in samples]
    labels = [sample.label for sample in samples]
    shape = dict(analyzer="char_wb", ngram_range=(1, 3)) if tokens == "chars" else \
        dict(tokenizer=jieba_words, token_pattern=None, lowercase=False, ngram_range=(1, 2))
    vectorizer = TfidfVectorizer(**shape, sublinear_tf=True, min_df=2 if len(samples) >= 2000 else 1,
                                 max_features=max_features)
    matrix = vectorizer.fit_transform(texts)
    classifier = None
    if len(set(labels)) > 1:
        # logistic loss by SGD: a linear model with probabilities, trained one class against the rest in a few
        # passes — seconds for thousands of cases and hundreds of categories, where lbfgs takes minutes
        classifier = SGDClassifier(loss="log_loss", alpha=1e-5, max_iter=15, tol=None, random_state=0)
        with threadpool_limits(limits=1):  # a busy server's other processes keep their cores
            classifier.fit(matrix, labels, sample_weight=np.array([sample.weight for sample in samples]))
    return TextModel(vectorizer=vectorizer, classifier=classifier, labels=sorted(set(labels)), matrix=matrix,
                     case_ids=[sample.case_id for sample in samples], closed=[sample.closed for sample in samples])


def jieba_words(text: str) -> list[str]:
    import logging

    import jieba

    jieba.setLogLevel(logging.WARNING)  # its dictionary loading talks at DEBUG on every process start
    return [word for word in jieba.lcut(text) if word.strip()]
