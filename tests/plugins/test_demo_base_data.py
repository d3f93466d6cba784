"""The demo city's base data drawn many at a time (numpy): the same seed gives the same people, ID numbers are
valid and unique, and the bulk phase leaves the SQLite connection as it found it."""
from collections import Counter

import numpy as np
from sqlalchemy import text

from minqing.core.privacy import idcard
from minqing.plugins.demo_city import people
from minqing.plugins.demo_city.base_data import _with_check_chars, large_page_cache


def test_names_and_mobiles_are_deterministic_and_plausible():
    first = people.names(np.random.default_rng(5), 5000), people.mobiles(np.random.default_rng(6), 500)
    again = people.names(np.random.default_rng(5), 5000), people.mobiles(np.random.default_rng(6), 500)
    assert first == again
    names, mobiles = first
    assert all(2 <= len(name) <= 3 and name[0] in people.SURNAMES for name in names)
    assert Counter(len(name) for name in names)[3] > Counter(len(name) for name in names)[2]  # two given chars 3×
    assert Counter(name[0] for name in names).most_common(1)[0][0] in people.SURNAMES[:10]   # by frequency
    assert all(len(number) == 11 and number[:3] in people.MOBILE_PREFIXES for number in mobiles)
    assert people.names(np.random.default_rng(7), 100) != names[:100]


def test_check_characters_drawn_in_bulk_agree_with_the_standard():
    rng = np.random.default_rng(1)
    prefixes = ["620102" + f"{1950 + index % 70}{1 + index % 12:02d}{1 + index % 28:02d}{index % 1000:03d}"
                for index in rng.integers(0, 10**6, 3000).tolist()]
    numbers = _with_check_chars(prefixes)
    assert numbers == [prefix + idcard.check_char(prefix) for prefix in prefixes]
    assert all(idcard.is_valid(number) for number in numbers)
    assert {number[-1] for number in numbers} >= set("0123456789X")
    assert _with_check_chars([]) == []


def test_the_bulk_phase_restores_the_page_cache(session):
    before = session.execute(text("PRAGMA cache_size")).scalar() if session.get_bind().dialect.name == "sqlite" \
        else None
    with large_page_cache(session):
        if before is not None:
            assert session.execute(text("PRAGMA cache_size")).scalar() == -256 * 1024
    if before is not None:
        assert session.execute(text("PRAGMA cache_size")).scalar() == before
