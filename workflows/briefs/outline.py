"""The brief as a sequence of blocks — headings, paragraphs, tables, charts, notes — written once from the figures
(`content.build`) and laid out by each format (`render.py`: Word, HTML, PDF), so the formats cannot say different
things."""
from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class Block:
    kind: str                          # heading, paragraph, table, chart, note
    text: str = ""
    level: int = 1                     # a heading's level
    columns: tuple[str, ...] = ()
    rows: tuple[tuple, ...] = ()
    chart: str = ""                    # a key of charts.all_charts


def percent(rate: float | None) -> str:
    return "—" if rate is None else f"{rate * 100:.1f}%"


def change(now: int | float, before: int | float) -> str:
    """+12（+8.0%）, −3（−20.0%）, +5（上期为 0）, 持平."""
    delta = now - before
    sign = "+" if delta >= 0 else "−"
    if not delta:
        return "持平"
    if not before:
        return f"{sign}{abs(delta)}（上期为 0）"
    return f"{sign}{abs(delta)}（{sign}{abs(delta) / before * 100:.1f}%）"


def _heading(text: str, level: int = 1) -> Block:
    return Block("heading", text, level=level)


def _table(columns, rows) -> Block:
    return Block("table", columns=tuple(columns), rows=tuple(tuple(str(cell) for cell in row) for row in rows))


def _totals(brief: dict) -> list[Block]:
    now, before, year = (brief["totals"][key] for key in ("current", "previous", "last_year"))
    counts = [("上报事件（件）", "reported"), ("办结事件（件）", "closed"), ("超期件数（件）", "overdue"),
              ("退回件数（件）", "returned")]
    rates = [("按期办结率", "on_time_closure_rate"), ("及时受理率", "timely_acceptance_rate"),
             ("满意率", "satisfaction_rate")]
    rows = [(title, now[key], before[key], change(now[key], before[key]), year[key], change(now[key], year[key]))
            for title, key in counts]
    rows += [(title, percent(now[key]), percent(before[key]), "", percent(year[key]), "") for title, key in rates]
    summary = (f"本期共上报事件 {now['reported']} 件，较{brief['previous_title']}{change(now['reported'], before['reported'])}，"
               f"较{brief['last_year_title']}{change(now['reported'], year['reported'])}；办结 {now['closed']} 件，"
               f"超期 {now['overdue']} 件，按期办结率 {percent(now['on_time_closure_rate'])}。")
    return [_heading("一、总体情况"), Block("paragraph", summary),
            _table(["指标", "本期", brief["previous_title"], "环比", brief["last_year_title"], "同比"], rows),
            Block("chart", chart="totals")]


def _ranking(brief: dict) -> list[Block]:
    rows = [(row["rank"], row["name"], "—" if row.get("score") is None else row["score"], row["reported"],
             percent(row["on_time_closure_rate"]),
             percent(row["timely_acceptance_rate"]), row["overdue"], percent(row["satisfaction_rate"]))
            for row in brief["ranking"]]
    blocks = [_heading("二、考核排名")]
    if not rows:
        return blocks + [Block("paragraph", "本期无可排名的职能部门。")]
    return blocks + [_table(["名次", "部门", "得分", "上报", "按期办结率", "及时受理率", "超期件数", "满意率"], rows)]


def _categories(brief: dict) -> list[Block]:
    rows = [(row["category"], row["current"], row["previous"], change(row["current"], row["previous"]),
             row["last_year"], " / ".join(str(n) for n in row["trend"])) for row in brief["categories"]]
    blocks = [_heading("三、高发事件类别及趋势")]
    if not rows:
        return blocks + [Block("paragraph", "本期无事件。")]
    first = brief["categories"][0]
    return blocks + [
        Block("paragraph", f"本期事件最多的类别为“{first['category']}”，共 {first['current']} 件，"
                           f"较上期{change(first['current'], first['previous'])}。"),
        _table(["类别", "本期", brief["previous_title"], "环比", brief["last_year_title"],
                "趋势（" + "、".join(brief["trend_titles"]) + "）"], rows),
        Block("chart", chart="categories"), Block("chart", chart="trend")]


def _hotspots(brief: dict) -> list[Block]:
    settings = brief["hotspot_settings"]
    spots = brief["hotspots"]
    blocks = [_heading("四、热点区域及变化"),
              Block("note", f"聚类参数：邻域半径 {settings['eps_m']} 米，最少 {settings['min_cases']} 件。")]
    if not spots:
        return blocks + [Block("paragraph", "本期及上期均未识别出热点。")]
    counts = {}
    for spot in spots:
        counts[spot["status_title"]] = counts.get(spot["status_title"], 0) + 1
    blocks.append(Block("paragraph", "与上期相比：" + "，".join(f"{title} {n} 处" for title, n in counts.items()) + "。"))
    rows = [(spot["category"], spot["status_title"], spot["cases"], spot["previous"],
             f"{spot['lon']:.4f}, {spot['lat']:.4f}", f"{spot['radius_m']:.0f}") for spot in spots]
    return blocks + [_table(["类别", "变化", "本期件数", "上期件数", "中心（经度, 纬度）", "半径（米）"], rows),
                     Block("chart", chart="hotspots")]


def _repeats(brief: dict) -> list[Block]:
    blocks = [_heading("五、重复地点与重复反映人")]
    places = brief["repeat_places"]
    if places:
        blocks.append(_table(["地点（已脱敏）", "事件数", "涉及月份", "类别", "首次", "最近"],
                             [(p["address"] or "（无地址，按位置关联）", p["cases"], "、".join(p["months"]),
                               "、".join(p["categories"][:3]), p["first"], p["last"]) for p in places]))
    else:
        blocks.append(Block("paragraph", "本期无重复地点。"))
    people = brief["repeat_reporters"]
    if people:
        blocks.append(_table(["反映人（已脱敏）", "电话（已脱敏）", "本期件数", "类别"],
                             [(p["name"] or "—", p["phone"] or "—", p["cases"], "、".join(p["categories"][:3]))
                              for p in people]))
    else:
        blocks.append(Block("paragraph", "本期无重复反映人。"))
    return blocks


def _departments(brief: dict) -> list[Block]:
    rows = [(row["name"], row["reported"], row["overdue"], row["dispatched"], row["returned"])
            for row in brief["departments"]]
    blocks = [_heading("六、超期与退回情况（按部门）")]
    if not rows:
        return blocks + [Block("paragraph", "本期无超期或退回事件。")]
    return blocks + [_table(["部门", "上报", "超期件数", "分拨件数", "退回件数"], rows)]


def _warnings(brief: dict) -> list[Block]:
    rows = [(row["title"], "计算失败" if row["raised"] is None else row["raised"], row["acknowledged"], row["cases"])
            for row in brief["warnings"]]
    blocks = [_heading("七、预警发出与处置")]
    if not rows:
        return blocks + [Block("paragraph", "未启用预警规则。")]
    return blocks + [_table(["预警规则", "期末预警", "本期确认", "本期转为事件"], rows)]


def _grassroots(brief: dict) -> list[Block]:
    fresh, cover = brief["freshness"], brief["coverage"]
    blocks = [_heading("八、数据鲜活度与走访覆盖"),
              Block("paragraph", f"业务记录共 {fresh['records']} 条，周期内更新 {fresh['fresh']} 条，"
                                 f"数据鲜活度 {percent(fresh['rate'])}；共 {cover['households']} 户，本期干部走访 "
                                 f"{cover['seen']} 户，户户见干部覆盖率 {percent(cover['rate'])}。")]
    if fresh["departments"]:
        blocks.append(_table(["部门", "记录数", "周期内更新", "一年未更新", "数据鲜活度"],
                             [(row["name"], row["records"], row["fresh"], row["untouched"], percent(row["rate"]))
                              for row in fresh["departments"]]))
    if cover["regions"]:
        blocks.append(_table(["区域", "户数", "干部走访", "覆盖率"],
                             [(row["name"], row["households"], row["seen"], percent(row["rate"]))
                              for row in cover["regions"]]))
    return blocks


def title(brief: dict) -> str:
    return f"{brief['region_name']}{brief['period_title']}社会治理形势研判简报"


def blocks(brief: dict) -> list[Block]:
    """The whole brief, from its title to the definitions of its numbers."""
    head = [Block("heading", title(brief), level=0),
            Block("note", f"统计周期：{brief['period_title']}；数据截至 {brief['as_of'][:16].replace('T', ' ')}（UTC）"
                          + ("；本期尚未结束，数字为临时数。" if brief["provisional"] else "。"))]
    tail = [_heading("附：指标口径")] + [Block("paragraph", f"{term}：{text}") for term, text in brief["definitions"]]
    return [*head, *_totals(brief), *_ranking(brief), *_categories(brief), *_hotspots(brief), *_repeats(brief),
            *_departments(brief), *_warnings(brief), *_grassroots(brief), *tail]


__all__ = ["Block", "blocks", "change", "percent", "title"]
