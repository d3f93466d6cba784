"""Likely duplicates (疑似重复件) of a case or of a report being written, with the evidence for each.

The pool: cases of the same theme (or of the same category in another theme) within the theme's distance,
open and reported within its time window or closed within its last days — never voided ones, never ones
already merged into another, and only those in the viewer's scope. Each is scored from its evidence (distance,
time apart, text similarity, category, matching photo); those at or above the theme's `min_score` are shown,
best first.
"""
from __future__ import annotations

import dataclasses
import datetime as dt

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from minqing.core.actors import Actor
from minqing.core.models import Attachment, Case, CaseMilestone, utcnow
from minqing.core.scope import restrict

from .. import definition
from . import similarity
from .settings import DuplicateSettings, for_theme

# How much each piece of evidence weighs in the score (they add up to 1; a matching photo adds on top).
WEIGHTS = {"distance": 0.30, "time": 0.15, "text": 0.35, "category": 0.20}
PHOTO_BONUS = 0.30


@dataclasses.dataclass(frozen=True)
class Draft:
    """What is known of a report: a case's own fields, or a report page's fields before it is sent."""
    theme_key: str
    lon: float | None
    lat: float | None
    text: str = ""
    category: str = ""
    subcategory: str = ""
    photos: tuple[tuple[str, str | None], ...] = ()    # (sha256, dhash) of its photos
    at: dt.datetime | None = None
    case_id: int | None = None                         # the case itself, left out of its own candidates


@dataclasses.dataclass(frozen=True)
class Candidate:
    case: Case
    distance_m: float
    hours_apart: float
    text_similarity: float
    same_category: bool
    same_subcategory: bool
    photo_match: bool
    photo_bits: int | None        # bits between the nearest photos' dHashes (0 for identical files)
    score: float

    def evidence(self) -> dict:
        """The evidence as plain numbers (kept with a merge, answered by the API)."""
        return {"case_id": self.case.id, "distance_m": round(self.distance_m, 1),
                "hours_apart": round(self.hours_apart, 1), "text_similarity": round(self.text_similarity, 3),
                "same_category": self.same_category, "same_subcategory": self.same_subcategory,
                "photo_match": self.photo_match, "photo_bits": self.photo_bits, "score": round(self.score, 3)}


def case_text(case: Case) -> str:
    return f"{case.title} {case.description or ''}"


def photo_hashes(session: Session, *, case_ids=(), attachment_ids=()) -> dict:
    """(sha256, dhash) of the photos of cases (by case id) or of uploads (under the key None)."""
    found: dict = {}
    conditions = []
    if case_ids:
        conditions.append(Attachment.case_id.in_(list(case_ids)))
    if attachment_ids:
        conditions.append(Attachment.id.in_(list(attachment_ids)))
    if not conditions:
        return found
    rows = session.execute(select(Attachment.id, Attachment.case_id, Attachment.sha256, Attachment.dhash)
                           .where(or_(*conditions), Attachment.content_type.like("image/%")))
    for attachment_id, case_id, sha256, dhash in rows:
        key = None if attachment_id in attachment_ids else case_id
        found.setdefault(key, []).append((sha256, dhash))
    return found


def draft_of(session: Session, case: Case) -> Draft:
    photos = photo_hashes(session, case_ids=[case.id]).get(case.id, [])
    return Draft(theme_key=case.theme_key, lon=case.lon, lat=case.lat, text=case_text(case),
                 category=case.category, subcategory=case.subcategory, photos=tuple(photos),
                 at=case.created_at, case_id=case.id)


def for_case(platform, session: Session, case: Case, viewer: Actor) -> list[Candidate]:
    """Likely duplicates of an existing case (none for a case already merged into another)."""
    if case.merged_into_id is not None:
        return []
    return find(platform, session, draft_of(session, case), viewer)


def find(platform, session: Session, draft: Draft, viewer: Actor,
         settings: DuplicateSettings | None = None) -> list[Candidate]:
    """Likely duplicates of `draft` that `viewer` may see, best first."""
    if draft.lon is None or draft.lat is None:
        return []
    settings = settings or for_theme(platform, session, draft.theme_key)
    if draft.at is None:
        draft = dataclasses.replace(draft, at=utcnow())
    at = draft.at
    rows = session.scalars(_pool(platform, draft, settings, at, viewer)).all()
    photos = photo_hashes(session, case_ids=[row.id for row in rows]) if draft.photos else {}
    found = []
    for row in rows:
        candidate = score_pair(draft, row, settings, photos.get(row.id, ()))
        if candidate.distance_m <= settings.distance_m and candidate.score >= settings.min_score:
            found.append(candidate)
    found.sort(key=lambda c: (-c.score, c.distance_m, -c.case.id))
    return found[:settings.limit]


def _pool(platform, draft: Draft, settings: DuplicateSettings, at: dt.datetime, viewer: Actor):
    d_lon, d_lat = similarity.degrees_around(draft.lat, settings.distance_m)
    window = dt.timedelta(hours=settings.hours)
    finals = definition.final_states(platform)
    same_kind = Case.theme_key == draft.theme_key
    if draft.category:
        same_kind = or_(same_kind, Case.category == draft.category)
    open_recent = and_(Case.closed_at.is_(None), Case.status.not_in(finals),
                       Case.created_at >= at - window, Case.created_at <= at + window)
    closed_recent = and_(Case.closed_at.is_not(None), Case.closed_at >= at - dt.timedelta(days=settings.closed_days))
    statement = (select(Case).outerjoin(CaseMilestone, CaseMilestone.case_id == Case.id)
                 .where(Case.lon.between(draft.lon - d_lon, draft.lon + d_lon),
                        Case.lat.between(draft.lat - d_lat, draft.lat + d_lat),
                        same_kind, or_(open_recent, closed_recent), Case.merged_into_id.is_(None),
                        func.coalesce(CaseMilestone.voided, False).is_(False))
                 .order_by(Case.id.desc()).limit(500))
    if draft.case_id is not None:
        statement = statement.where(Case.id != draft.case_id)
    return restrict(statement, Case, viewer)


def score_pair(draft: Draft, case: Case, settings: DuplicateSettings, photos) -> Candidate | None:
    """The evidence that `case` repeats `draft`, and its score (None when either has no place on the map)."""
    if None in (draft.lon, draft.lat, case.lon, case.lat):
        return None
    distance = similarity.distance_m(draft.lon, draft.lat, case.lon, case.lat)
    hours = abs((case.created_at - (draft.at or utcnow())).total_seconds()) / 3600
    text = similarity.text_similarity(draft.text, case_text(case))
    same_category = bool(draft.category) and draft.category == case.category
    same_subcategory = bool(draft.subcategory) and draft.subcategory == case.subcategory
    bits = _nearest_photo(draft.photos, photos)
    photo_match = bits is not None and bits <= settings.photo_bits
    category = 1.0 if same_subcategory else 0.5 if same_category else 0.0
    near = max(0.0, 1 - distance / settings.distance_m) if settings.distance_m else 1.0
    soon = max(0.0, 1 - hours / settings.hours) if settings.hours else 0.0
    score = (WEIGHTS["distance"] * near + WEIGHTS["time"] * soon + WEIGHTS["text"] * text
             + WEIGHTS["category"] * category + (PHOTO_BONUS if photo_match else 0.0))
    return Candidate(case=case, distance_m=distance, hours_apart=hours, text_similarity=text,
                     same_category=same_category, same_subcategory=same_subcategory, photo_match=photo_match,
                     photo_bits=bits, score=min(1.0, score))


def _nearest_photo(mine, theirs) -> int | None:
    """The fewest differing bits between any photo of one and any of the other: 0 for the same file."""
    best = None
    for sha_a, hash_a in mine:
        for sha_b, hash_b in theirs:
            if sha_a == sha_b:
                return 0
            if hash_a and hash_b:
                bits = similarity.hash_distance(hash_a, hash_b)
                best = bits if best is None else min(best, bits)
    return best
