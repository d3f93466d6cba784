"""How good the suggestions are: train on the older 80 % of history, test on the newer 20 %, and compare with
a keyword rule measured on the same split.

The keyword rule is what a dispatcher's cheat sheet does: the categories whose title appears in the text come
first (longest title first), then those sharing most two-character pieces of their title with the text, ties
broken by how common the category was in the training part.
"""
from __future__ import annotations

import collections
import dataclasses

from tqdm import tqdm

from .model import Sample, fit

TRAIN_SHARE = 0.8


@dataclasses.dataclass(frozen=True)
class Evaluation:
    train: int
    test: int
    categories: int
    model_top1: float
    model_top3: float
    keyword_top1: float
    keyword_top3: float

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


def split(samples: list[Sample]) -> tuple[list[Sample], list[Sample]]:
    ordered = sorted(samples, key=lambda sample: sample.at)
    cut = int(len(ordered) * TRAIN_SHARE)
    return ordered[:cut], ordered[cut:]


def keyword_rank(text: str, titles: dict[str, str], frequency: collections.Counter, k: int = 3) -> list[str]:
    def score(code: str):
        title = titles[code]
        pieces = {title[i:i + 2] for i in range(len(title) - 1)} or {title}
        return (title in text, len(title) if title in text else 0,
                sum(piece in text for piece in pieces) / len(pieces), frequency[code])
    return sorted(titles, key=score, reverse=True)[:k]


def evaluate(samples: list[Sample], titles: dict[str, str], *, tokens: str = "chars",
             show_progress: bool = False) -> Evaluation:
    """`titles`: category code → title, the table both the model (as cold-start samples) and the rule know."""
    train, test = split(samples)
    if not train or not test:
        raise ValueError("历史事件太少，无法按时间切分训练集和测试集（至少需要 2 件）")
    model = fit(train + [Sample(text=title, label=code) for code, title in titles.items()], tokens=tokens)
    frequency = collections.Counter(sample.label for sample in train)
    hits = collections.Counter()
    for sample in tqdm(test, desc="评估", unit="件", disable=not show_progress):
        ranked = [code for code, _ in model.rank(sample.text, 3)]
        keywords = keyword_rank(sample.text, titles, frequency)
        hits["model1"] += ranked[:1] == [sample.label]
        hits["model3"] += sample.label in ranked
        hits["keyword1"] += keywords[:1] == [sample.label]
        hits["keyword3"] += sample.label in keywords
    share = lambda name: round(hits[name] / len(test), 4)  # noqa: E731
    return Evaluation(train=len(train), test=len(test), categories=len(set(frequency) | set(titles)),
                      model_top1=share("model1"), model_top3=share("model3"), keyword_top1=share("keyword1"),
                      keyword_top3=share("keyword3"))
