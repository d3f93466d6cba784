"""A workflow as a diagram: server-side SVG of its states and transitions, drawn here with no script, no
font download and no CDN, so it shows the same in every browser and in a printed page.

Layout: states in layers from top to bottom (the longest path from the initial state along forward
transitions; finished states last), which stays readable at phone width. Each transition is an arrow
labelled with its title; one that goes back up (rework, return) is drawn as a curve at the side. Finished
states have a double border, the initial state a thick one, paused states a dashed one. Every text is
escaped.
"""
from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

from .definition import PREVIOUS, Workflow

ROW, GAP, PAD, HEIGHT, FONT = 110, 36, 28, 40, 14


def _document(definition) -> dict:
    return definition.document if isinstance(definition, Workflow) else definition


def _edges(document: dict) -> list[tuple[str, str, str]]:
    """(source, target, title) of every transition; '@previous' becomes an edge back to each state that leads
    into the paused state it leaves."""
    states = document.get("states", {})
    edges = []
    for step in document.get("transitions", []):
        for source in step.get("from", []):
            if step.get("to") != PREVIOUS:
                edges.append((source, step["to"], step.get("title", step.get("name", ""))))
                continue
            for before in document.get("transitions", []):
                if source in states and before.get("to") == source:
                    edges += [(source, origin, step.get("title", "")) for origin in before.get("from", [])
                              if origin != source]
    return [(a, b, title) for a, b, title in edges if a in states and b in states]


def layers(document: dict) -> dict[str, int]:
    """The layer of each state: longest forward path from the initial state; unreachable ones after it."""
    states = document.get("states", {})
    initial = document.get("initial")
    forward: dict[str, list[str]] = {name: [] for name in states}
    order, seen, on_path = [], set(), set()

    def visit(name: str) -> None:  # depth-first from the initial state: edges back onto the path are back edges
        seen.add(name)
        on_path.add(name)
        for source, target, _ in _edges(document):
            if source != name or target in on_path:
                continue
            forward[name].append(target)
            if target not in seen:
                visit(target)
        on_path.discard(name)
        order.append(name)

    if initial in states:
        visit(initial)
    for name in states:
        if name not in seen:
            visit(name)
    layer = {name: 0 for name in states}
    for name in reversed(order):
        for target in forward[name]:
            layer[target] = max(layer[target], layer[name] + 1)
    deepest = max(layer.values(), default=0)
    for name, body in states.items():
        if body.get("final"):
            layer[name] = max(deepest, layer[name])
    return layer


def _width(text: str) -> int:
    return sum(FONT if ord(char) > 0x2E7F else FONT * 0.6 for char in text)


def _grouped_edges(document: dict) -> list[tuple[str, str, str]]:
    """One arrow per pair of states, labelled with the titles of every step between them."""
    grouped: dict[tuple[str, str], list[str]] = {}
    for source, target, title in _edges(document):
        titles = grouped.setdefault((source, target), [])
        if title not in titles:
            titles.append(title)
    return [(source, target, "、".join(titles)) for (source, target), titles in grouped.items()]


def _positions(document: dict, left: float, right: float):
    states = document["states"]
    rows: dict[int, list[str]] = {}
    for name, level in sorted(layers(document).items(), key=lambda item: item[1]):
        rows.setdefault(level, []).append(name)
    box = {name: max(96.0, _width(body.get("title", name)) + 28) for name, body in states.items()}
    widths = {level: sum(box[name] for name in names) + GAP * (len(names) - 1) for level, names in rows.items()}
    content = max(widths.values(), default=100)
    placed = {}
    for index, level in enumerate(sorted(rows)):
        x = PAD + left + (content - widths[level]) / 2
        for name in rows[level]:
            placed[name] = (x, PAD + index * ROW, box[name])
            x += box[name] + GAP
    return placed, content + 2 * PAD + left + right, PAD * 2 + (len(rows) - 1) * ROW + HEIGHT


def workflow_svg(definition) -> str:
    """The diagram of a workflow (a `Workflow`, or a workflow document) as an SVG string."""
    document = _document(definition)
    level = layers(document)
    edges = _grouped_edges(document)
    kinds = [_kind(level[source], level[target]) for source, target, _ in edges]
    curves = len(kinds) - kinds.count("down")
    left = right = 40 + 18 * curves if curves else 0
    placed, width, height = _positions(document, left, right)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:.0f} {height:.0f}" '
             f'width="100%" role="img" class="mq-workflow-diagram" '
             f'aria-label={quoteattr("流程图：" + str(document.get("title", "")))} '
             f'font-family="sans-serif" font-size="{FONT}">',
             f'<title>{escape(str(document.get("title", "")))}</title>',
             '<defs><marker id="mq-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
             'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#455a64"/></marker></defs>']
    labels, counters = [], {-1: 0, 1: 0, 0: 0}
    middle = PAD + left + (width - 2 * PAD - left - right) / 2
    for (source, target, title), kind in zip(edges, kinds):
        side = 0 if kind == "down" else _side(placed[source], placed[target], middle, kind)
        counters[side] += 1
        parts.append(_edge(placed[source], placed[target], side, counters[side], labels, title))
    for name, body in document["states"].items():
        parts.append(_state(name, body, placed[name], name == document.get("initial")))
    parts += labels
    parts.append("</svg>")
    return "".join(parts)


def _kind(source_level: int, target_level: int) -> str:
    if target_level == source_level + 1:
        return "down"
    return "skip" if target_level > source_level else "up"


def _side(source, target, middle: float, kind: str) -> int:
    """Which side a curve goes round: the side its states lie on (skips left, back edges right when central)."""
    centre = (source[0] + source[2] / 2 + target[0] + target[2] / 2) / 2
    if abs(centre - middle) < 30:
        return -1 if kind == "skip" else 1
    return -1 if centre < middle else 1


def _edge(source, target, side, index, labels, title) -> str:
    """Down one layer (side 0): straight. Else a curve out to the left (-1) or the right (1)."""
    (sx, sy, sw), (tx, ty, tw) = source, target
    kind = "down" if side == 0 else "skip" if ty > sy else "up"
    if side == 0:
        x1, y1, x2, y2 = sx + sw / 2, sy + HEIGHT, tx + tw / 2, ty
        path = f"M{x1:.1f},{y1:.1f} L{x2:.1f},{y2:.1f}"
        lx, ly = x1 + (x2 - x1) * 0.5, y1 + (y2 - y1) * 0.5
    else:
        x1 = sx if side < 0 else sx + sw
        x2 = tx if side < 0 else tx + tw
        y1, y2 = sy + HEIGHT / 2 + 6 * side, ty + HEIGHT / 2 - 6 * side
        outer = min(x1, x2) if side < 0 else max(x1, x2)
        cx = outer + side * (36 + 18 * index)
        path = f"M{x1:.1f},{y1:.1f} C{cx:.1f},{y1:.1f} {cx:.1f},{y2:.1f} {x2:.1f},{y2:.1f}"
        lx, ly = outer + side * (27 + 13.5 * index), (y1 + y2) / 2 + (index % 3 - 1) * 14
    text = escape(title)
    half = _width(title) * 0.8 / 2 + 3
    labels.append(f'<g class="mq-edge-label"><rect x="{lx - half:.1f}" y="{ly - 9:.1f}" width="{2 * half:.1f}" '
                  f'height="16" rx="3" fill="#ffffff" fill-opacity="0.85"/>'
                  f'<text x="{lx:.1f}" y="{ly + 4:.1f}" text-anchor="middle" font-size="{FONT * 0.8:.1f}" '
                  f'fill="#37474f">{text}</text></g>')
    return (f'<path class="mq-edge mq-edge-{kind}" d="{path}" fill="none" stroke="#455a64" stroke-width="1.4" '
            f'marker-end="url(#mq-arrow)"/>')


def _state(name: str, body: dict, position, initial: bool) -> str:
    x, y, w = position
    final, paused = body.get("final", False), body.get("paused", False)
    fill = "#e8f5e9" if final else "#fff8e1" if paused else "#e3f2fd"
    stroke = "#2e7d32" if final else "#f9a825" if paused else "#1565c0"
    extra = ' stroke-dasharray="5 3"' if paused else ""
    shapes = [f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{HEIGHT}" rx="8" fill="{fill}" '
              f'stroke="{stroke}" stroke-width="{3 if initial else 1.5}"{extra}/>']
    if final:
        shapes.append(f'<rect x="{x + 3:.1f}" y="{y + 3:.1f}" width="{w - 6:.1f}" height="{HEIGHT - 6}" rx="6" '
                      f'fill="none" stroke="{stroke}" stroke-width="1"/>')
    kind = "final" if final else "paused" if paused else "initial" if initial else "state"
    title = escape(str(body.get("title", name)))
    return (f'<g class="mq-state mq-state-{kind}" data-state={quoteattr(name)}>' + "".join(shapes)
            + f'<text x="{x + w / 2:.1f}" y="{y + HEIGHT / 2 + 5:.1f}" text-anchor="middle" fill="#263238">'
            f'{title}</text></g>')
