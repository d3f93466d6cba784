"""Suggest where a case goes: the top categories with their department, confidence and a readable reason."""
from __future__ import annotations

import dataclasses
import logging
import threading

from sqlalchemy import select
from sqlalchemy.orm import Session

from minqing.core.privacy import masking
from minqing.core import scope
from minqing.core.actors import Actor
from minqing.core.models import Case

from . import catalogue, history, reach, store
from .model import Sample, TextModel, fit

log = logging.getLogger(__name__)
SIMILAR_SHOWN = 3
WORDS_SHOWN = 4
RESERVE = 12         # categories looked at beyond k, for those whose department cannot act


@dataclasses.dataclass(frozen=True)
class SimilarCase:
    id: int
    number: str
    title: str
    similarity: float


@dataclasses.dataclass(frozen=True)
class Suggestion:
    rank: int
    code: str
    title: str
    parent: str
    theme_key: str
    theme_title: str
    department_key: str
    department_name: str
    confidence: float
    words: tuple[str, ...]
    responsibility: str
    similar: tuple[SimilarCase, ...]

    @property
    def reason(self) -> str:
        parts = []
        if self.words:
            parts.append("报告中的“" + "”“".join(self.words) + "”指向此类")
        parts.append(self.responsibility)
        if self.similar:
            parts.append("相似的已办结事件：" + "；".join(f"{case.number} {case.title}" for case in self.similar))
        return "。".join(parts) + "。"

    def as_dict(self) -> dict:
        answer = dataclasses.asdict(self)
        answer.update(words=list(self.words), similar=[dataclasses.asdict(case) for case in self.similar],
                      reason=self.reason)
        return answer


def train(platform, session: Session) -> store.ModelInfo:
    """Learn from the city's dispatches that stuck, plus each category's own title (so a category without
    history yet can still be suggested); store the model for every process."""
    cases = history.samples(session)
    known = catalogue.categories(platform, session)
    titles = [Sample(text=f"{category.theme_title} {category.parent} {category.title}", label=code)
              for code, category in known.items()]
    model = fit(cases + titles)
    info = store.save(platform, session, model, samples=len(cases), categories=len(model.labels),
                      corrections=sum(1 for sample in cases if sample.weight == history.CORRECTION_WEIGHT))
    log.info("dispatch model %s trained on %d cases", info.version, info.samples)
    return info


def suggest(platform, session: Session, case: Case, k: int = 3, *, viewer: Actor | None = None,
            train_if_missing: bool = True) -> list[Suggestion]:
    """The k likeliest categories for `case`, each with its department and reason. Similar cases are only
    those `viewer` may see (none without a viewer). No model yet: train one now, unless told not to."""
    loaded = store.load(session)
    if loaded is None and train_if_missing:
        loaded = _train_once(platform)
    if loaded is None:
        return []
    model = loaded[1]
    known = catalogue.categories(platform, session)
    text = history.case_text(case)
    # only towards departments that can act (reach): a category nobody can take is passed over
    can_act = reach.able(session, case)
    ranked = []
    for code, confidence in model.rank(text, k + RESERVE):
        duty = catalogue.acting(platform, session, known[code], case, can_act) if code in known else None
        if duty is not None:
            ranked.append((code, confidence, duty))
        if len(ranked) == k:
            break
    neighbours = _neighbours(session, model.similar(text), case, viewer)
    found = []
    for rank, (code, confidence, duty) in enumerate(ranked, start=1):
        category = known[code]
        words = tuple(word for word, _ in model.evidence(text, code, WORDS_SHOWN))
        similar = tuple(neighbour for neighbour, label in neighbours if label == code)[:SIMILAR_SHOWN]
        found.append(Suggestion(rank=rank, code=code, title=category.title, parent=category.parent,
                                theme_key=category.theme_key, theme_title=category.theme_title,
                                department_key=duty.department_key, department_name=duty.department_name,
                                confidence=round(confidence, 4), words=words, responsibility=duty.reason,
                                similar=similar))
    return found


_training = threading.Lock()


def _train_once(platform) -> tuple[store.ModelInfo, TextModel] | None:
    """Train the missing model in a transaction of its own, committed: a page view's session is rolled back, so
    a model trained in it was lost and trained again (seconds) on every view. One thread of a process trains;
    the others wait and load what it stored."""
    with _training:
        with platform.db.session() as own:
            if store.load(own) is None:
                train(platform, own)
        with platform.db.session() as own:
            return store.load(own)


def _neighbours(session: Session, nearest: list[tuple[int, float]], case: Case,
                viewer: Actor | None) -> list[tuple[SimilarCase, str]]:
    """The nearest closed cases the viewer may see, with their category code, nearest first."""
    similarity = {case_id: score for case_id, score in nearest if case_id != case.id}
    if viewer is None or not similarity:
        return []
    statement = scope.restrict(select(Case).where(Case.id.in_(similarity)), Case, viewer)
    rows = sorted(session.scalars(statement), key=lambda row: -similarity[row.id])
    return [(SimilarCase(id=row.id, number=row.number, title=masking.text_for(viewer, row.title),
                         similarity=round(similarity[row.id], 3)), history.code_of(row)) for row in rows]
