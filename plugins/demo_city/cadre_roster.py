"""The demo's cadre accounts (干部) as roster rows: they travel through the roster file with their post and grids
(`post`, `grids`: docs/setup.md), as a real city's cadres would.

Lanzhou's whole cadre roster, 8,465 accounts: every village's (and community's) 党组织书记, who holds its key
grids, and two more members of its 村两委 sharing its grids; for every village the 乡镇包村干部 of its township who
answers for it (and its grids); and a 自然村长/村民小组长 for each rural small grid whose full-time worker is a group
leader: the same person, so their row repeats with the grid worker's grant on that grid (the roster gives one
grant a row), and their visits count for them as a cadre. The roster import writes them in sets
(core/importing/account_file.py), a few seconds of the demo's minute.

Cadres get no password (a roster carries none; they set one at first sign-in), except the one named demo login
`cadre` (CADRE_USERNAME): the 党组织书记 of the village of the demo grid worker's grid, in 城关区.
"""
from __future__ import annotations

import random

from . import people, spec

CADRE_USERNAME = "cadre"
COMMITTEE_MEMBERS = 2      # 村两委 members besides the party secretary (who is usually also 村委会主任, 一肩挑)
SECRETARY, COMMITTEE, LIAISON, GROUP_LEADER = "党组织书记", "村两委", "乡镇包村干部", "自然村长/村民小组长"


def cadre_rows(geography, seed: int, taken_phones=()) -> list[tuple[tuple[str, ...], str]]:
    """Roster rows (username, name, phone, role, scope, grid_code, post, grids) with what each is for; the named
    demo cadre first. A group leader has two rows: their post, and the grid worker's grant on their grid."""
    rng = random.Random(seed * 13 + 5)
    phones = set(taken_phones)

    def row(username: str, scope: str, post: str, cells, purpose: str, name: str = ""):
        while (phone := people.mobile(rng)) in phones:
            pass
        phones.add(phone)
        name = name or people.name(rng)
        return ((username, name, phone, "cadre", scope, "", post, ";".join(cell.code for cell in cells)),
                purpose)

    small_by_village = villages_small_grids(geography)
    villages = [area for area in geography.regions if area.level == "village"]
    named = named_village(geography, small_by_village)
    rows = []
    for village in villages:
        cells = small_by_village.get(village.code, [])
        is_named = village.code == named   # the demo login reads as its post, as the other demo accounts do
        rows.append(row(CADRE_USERNAME if is_named else f"sj{village.code}", village.code, SECRETARY, (),
                        f"{village.name}{SECRETARY}", f"{village.name}书记" if is_named else ""))
        rows.append(row(f"bc{village.code}", village.parent_code, LIAISON, cells, f"{village.name}{LIAISON}"))
        # the village's grids shared among its committee members
        rows += [row(f"lw{village.code}{index + 1}", village.code, COMMITTEE, cells[index::COMMITTEE_MEMBERS],
                     f"{village.name}{COMMITTEE}") for index in range(COMMITTEE_MEMBERS)]
    rows.sort(key=lambda item: item[0][0] != CADRE_USERNAME)
    group_parent = {area.code: area.parent_code for area in geography.regions if area.level == "group"}
    for cell in group_leader_grids(geography):
        leader, purpose = row(f"zz{cell.region_code}", group_parent[cell.region_code], GROUP_LEADER, (cell,),
                              f"{cell.name}{GROUP_LEADER}")
        # the same person is the grid's full-time worker (村民小组长、专职网格员): a second grant on their username
        rows += [(leader, purpose), (leader[:3] + ("grid_worker", "", cell.code, "", ""), purpose)]
    return rows


def villages_small_grids(geography) -> dict[str, list]:
    """village code → its small grids (each serves one of its groups)."""
    group_parent = {area.code: area.parent_code for area in geography.regions if area.level == "group"}
    found: dict[str, list] = {}
    for cell in geography.grids:
        if cell.level == "small" and cell.region_code in group_parent:
            found.setdefault(group_parent[cell.region_code], []).append(cell)
    return found


def named_village(geography, small_by_village: dict[str, list]) -> str | None:
    """The village of the demo grid worker's grid (the first small grid), else the first village with grids."""
    first = next((cell for cell in geography.grids if cell.level == "small"), None)
    parent = {area.code: area.parent_code for area in geography.regions}
    if first is not None and parent.get(first.region_code) in small_by_village:
        return parent[first.region_code]
    return next(iter(small_by_village), None)


def group_leader_grids(geography) -> list:
    """The rural small grids whose full-time worker is a village group leader (the first of the ordinary rural small
    grids): the roster staffs them, and `Builder.grid_people` the rural grids after them."""
    rural = [cell for cell in geography.grids if cell.level == "small" and not cell.dedicated and not cell.urban]
    return rural[:min(spec.RURAL_GROUP_LEADERS, spec.RURAL_FULL_TIME, len(rural))]
