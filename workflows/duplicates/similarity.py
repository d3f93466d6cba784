"""The evidence that two reports are about the same problem: how far apart, how similar their words and photos."""
from __future__ import annotations

import math
import re
import unicodedata

EARTH_RADIUS_M = 6_371_008.8
# A leading 【投诉】-style label (the citizen pages prefix the kind of appeal) says nothing about the problem.
_LABEL = re.compile(r"^【[^】]{0,8}】")


def distance_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle (haversine) distance in metres between two WGS84 points."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    d_phi, d_lambda = phi2 - phi1, math.radians(lon2 - lon1)
    a = math.sin(d_phi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(d_lambda / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def degrees_around(lat: float, metres: float) -> tuple[float, float]:
    """Half-sides (longitude, latitude degrees) of a box holding every point within `metres` of latitude `lat`,
    for an index-friendly prefilter before the exact distance."""
    d_lat = math.degrees(metres / EARTH_RADIUS_M)
    d_lon = d_lat / max(math.cos(math.radians(lat)), 0.01)
    return d_lon, d_lat


def _characters(text: str) -> str:
    """Letters and digits only, lower case, full-width folded: punctuation and spacing do not make text differ."""
    text = _LABEL.sub("", unicodedata.normalize("NFKC", text or "").strip())
    return "".join(ch for ch in text.lower() if ch.isalnum())


def bigrams(text: str) -> set[str]:
    """Character bigrams: Chinese has no spaces, and two characters are the shortest unit that carries meaning
    (井盖, 漏水, 路灯); a one-character text counts as its own bigram."""
    chars = _characters(text)
    if len(chars) < 2:
        return {chars} if chars else set()
    return {chars[i:i + 2] for i in range(len(chars) - 1)}


def text_similarity(first: str, second: str) -> float:
    """Sørensen–Dice similarity (0–1) of the two texts' character bigrams: like Jaccard, but a short report
    inside a longer one ("井盖丢了" in a paragraph about the missing cover) is not drowned by the extra words."""
    a, b = bigrams(first), bigrams(second)
    if not a or not b:
        return 0.0
    return 2 * len(a & b) / (len(a) + len(b))


def hash_distance(first: str, second: str) -> int:
    """Hamming distance of two 64-bit dHashes (16 hex digits)."""
    return bin(int(first, 16) ^ int(second, 16)).count("1")
