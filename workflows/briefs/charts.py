"""The brief's charts as PNG images, drawn with matplotlib (its Agg renderer: no display, no pyplot state), the
same bytes in the Word, HTML and PDF briefs.

Chinese labels need a CJK font: the first of `CJK_FONTS` installed is used (fonts-wqy-microhei on Debian);
without one, matplotlib draws empty boxes for the characters and says so in the log. The PNG carries no
software-version metadata, so the same figures give the same bytes on one installation.
"""
from __future__ import annotations

import io

PALETTE = ("#b71c1c", "#1565c0", "#2e7d32", "#ef6c00", "#6a1b9a", "#00838f")
CJK_FONTS = ["WenQuanYi Micro Hei", "Noto Sans CJK SC", "Source Han Sans SC", "SimHei", "Microsoft YaHei",
             "PingFang SC", "DejaVu Sans"]
DPI = 120


def _figure(width: float = 7.0, height: float = 3.2):
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    matplotlib.rcParams["font.sans-serif"] = CJK_FONTS
    matplotlib.rcParams["font.family"] = "sans-serif"
    matplotlib.rcParams["axes.unicode_minus"] = False
    matplotlib.rcParams["svg.hashsalt"] = "minqing"
    figure = Figure(figsize=(width, height), dpi=DPI)
    return figure, figure.add_subplot()


def _png(figure) -> bytes:
    buffer = io.BytesIO()
    figure.tight_layout()
    figure.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()


def totals_chart(brief: dict) -> bytes:
    """上报、办结、超期: the period against the one before and the same period a year before."""
    figure, axes = _figure()
    measures = [("reported", "上报"), ("closed", "办结"), ("overdue", "超期")]
    columns = [("last_year", brief["last_year_title"]), ("previous", brief["previous_title"]),
               ("current", "本期")]
    width = 0.26
    for offset, (key, label) in enumerate(columns):
        values = [brief["totals"][key][measure] for measure, _ in measures]
        bars = axes.bar([i + (offset - 1) * width for i in range(len(measures))], values, width, label=label,
                        color=PALETTE[offset + 1 if offset < 2 else 0])
        axes.bar_label(bars, fontsize=8)
    axes.set_xticks(range(len(measures)), [title for _, title in measures])
    axes.set_ylabel("件")
    axes.set_title("事件总量对比")
    axes.legend(fontsize=8)
    return _png(figure)


def categories_chart(brief: dict) -> bytes:
    """The top categories: this period and the one before."""
    rows = brief["categories"][::-1]
    figure, axes = _figure(height=max(2.4, 0.35 * len(rows) + 1.2))
    if not rows:
        axes.text(0.5, 0.5, "本期无事件", ha="center", va="center")
        axes.set_axis_off()
        return _png(figure)
    positions = range(len(rows))
    axes.barh([p + 0.2 for p in positions], [row["current"] for row in rows], 0.4, label="本期", color=PALETTE[0])
    axes.barh([p - 0.2 for p in positions], [row["previous"] for row in rows], 0.4, label=brief["previous_title"],
              color=PALETTE[1])
    axes.set_yticks(list(positions), [row["category"] for row in rows])
    axes.set_xlabel("件")
    axes.set_title("高发事件类别")
    axes.legend(fontsize=8)
    return _png(figure)


def trend_chart(brief: dict, lines: int = 5) -> bytes:
    """The trend of the top categories over the last periods."""
    figure, axes = _figure()
    for index, row in enumerate(brief["categories"][:lines]):
        axes.plot(brief["trend_titles"], row["trend"], marker="o", label=row["category"],
                  color=PALETTE[index % len(PALETTE)])
    axes.set_ylabel("件")
    axes.set_title("高发类别趋势")
    axes.tick_params(axis="x", labelsize=8)
    if brief["categories"]:
        axes.legend(fontsize=8)
    return _png(figure)


def hotspots_chart(brief: dict) -> bytes:
    """The hotspots' centres (the size is the number of cases), coloured by what changed."""
    colours = {"new": PALETTE[0], "grown": PALETTE[3], "unchanged": PALETTE[1], "shrunk": PALETTE[2],
               "gone": "#9e9e9e"}
    figure, axes = _figure(width=6.0, height=4.0)
    shown = set()
    for spot in brief["hotspots"]:
        label = spot["status_title"] if spot["status"] not in shown else None
        shown.add(spot["status"])
        axes.scatter([spot["lon"]], [spot["lat"]], s=30 + 12 * max(spot["cases"], spot["previous"]),
                     color=colours[spot["status"]], alpha=0.7, label=label)
        axes.annotate(spot["category"], (spot["lon"], spot["lat"]), fontsize=7)
    axes.set_title("热点分布及变化")
    axes.set_xlabel("经度")
    axes.set_ylabel("纬度")
    if shown:
        axes.legend(fontsize=8)
    return _png(figure)


def all_charts(brief: dict) -> dict[str, tuple[str, bytes]]:
    """The brief's charts by the section they belong to: {key: (caption, PNG)}."""
    charts = {"totals": ("图1 事件总量对比", totals_chart(brief)),
              "categories": ("图2 高发事件类别", categories_chart(brief)),
              "trend": ("图3 高发类别趋势", trend_chart(brief))}
    if brief["hotspots"]:
        charts["hotspots"] = ("图4 热点分布及变化", hotspots_chart(brief))
    return charts


__all__ = ["all_charts", "categories_chart", "hotspots_chart", "totals_chart", "trend_chart"]
