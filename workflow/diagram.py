"""Draw a programme's state graph from its definition: Mermaid text, or a self-contained SVG in pure Python."""

from __future__ import annotations

import unicodedata
from collections import deque
from dataclasses import dataclass, field
from xml.sax.saxutils import escape, quoteattr

from workflow.definitions import Definition

# --- Mermaid ------------------------------------------------------------------------------------------------------


def edge_label(trigger: str, roles: tuple[str, ...]) -> str:
    return f"{trigger} ({', '.join(roles)})"


def mermaid(definition: Definition, lang: str = "zh") -> str:
    """A `stateDiagram-v2`: one node per state, one edge per (source, trigger), labelled `trigger (roles)`."""
    title = definition.title.get(lang) or definition.title.get("en") or definition.code
    lines = ["---", f"title: {_mermaid_text(title)} ({definition.label})", "---", "stateDiagram-v2"]
    for name in state_order(definition):
        lines.append(f'    state "{_mermaid_text(definition.state_label(name, lang))} ({name})" as {name}')
    lines.append(f"    [*] --> {definition.initial}")
    for t in definition.transitions:
        for source in t.sources:
            lines.append(f"    {source} --> {t.dest} : {_mermaid_text(edge_label(t.trigger, t.roles))}")
    for name in state_order(definition):
        if definition.states[name].terminal:
            lines.append(f"    {name} --> [*]")
    return "\n".join(lines) + "\n"


def _mermaid_text(text: str) -> str:
    # A double quote ends a state description and a colon or semicolon splits an edge label in Mermaid.
    return text.replace('"', "'").replace(":", "：").replace(";", "；")


# --- Layout -------------------------------------------------------------------------------------------------------


def _depths(definition: Definition) -> dict[str, int]:
    """BFS depth of each reachable state, in the order BFS finds them (transitions in declared order)."""
    depth = {definition.initial: 0}
    queue = deque([definition.initial])
    while queue:
        state = queue.popleft()
        for t in definition.from_state(state):
            if t.dest not in depth:
                depth[t.dest] = depth[state] + 1
                queue.append(t.dest)
    return depth


def state_order(definition: Definition) -> list[str]:
    """States in the order a walk from the initial state meets them; the rest by name.

    A stored definition comes back from the database with its keys sorted, its transitions in order: this
    order is the same either way, so a drawing from the file and one from the database are identical.
    """
    found = list(_depths(definition))
    return found + sorted(set(definition.states) - set(found))


def layers(definition: Definition) -> list[list[str]]:
    """States in rows by BFS depth from the initial state; terminal states share the last row.

    Within a row, states sit near the average position of their predecessors in the rows above (one
    barycentre pass), ties broken by `state_order`: no randomness, no set or dict order.
    """
    names = state_order(definition)
    order = {name: i for i, name in enumerate(names)}
    depth = _depths(definition)
    terminal = [n for n in names if definition.states[n].terminal or n not in depth]
    inner = [n for n in names if n not in terminal]
    rows: list[list[str]] = [[] for _ in range(max((depth[n] for n in inner), default=0) + 1)]
    for name in inner:
        rows[depth[name]].append(name)
    if terminal:
        rows.append(terminal)
    rows = [row for row in rows if row]

    predecessors: dict[str, list[str]] = {name: [] for name in definition.states}
    for t in definition.transitions:
        for source in t.sources:
            if source != t.dest:
                predecessors[t.dest].append(source)
    position: dict[str, float] = {}
    for r, row in enumerate(rows):
        placed_above = {}
        for name in row:
            above = [position[p] for p in predecessors[name] if p in position]
            placed_above[name] = sum(above) / len(above) if above else 0.0
        if r > 0:
            row.sort(key=lambda n: (placed_above[n], order[n]))
        for i, name in enumerate(row):
            position[name] = i - (len(row) - 1) / 2
    return rows


def text_width(text: str, size: float) -> float:
    """Rough advance width: CJK and full-width characters one em, others a little over half."""
    return sum(size if unicodedata.east_asian_width(c) in "WF" else 0.6 * size for c in text)


@dataclass
class _Edge:
    source: str
    dest: str
    label: str
    tooltip: str
    kind: str = "direct"  # direct (next row down) | down, up (via a side lane) | same (one run through a gap)
    side: str = ""  # left | right, for routed edges that cross rows
    lane: int = 0
    tracks: list[tuple[int, int]] = field(default_factory=list)  # (gap, track) for each horizontal run
    start: tuple[float, float] = (0.0, 0.0)
    end: tuple[float, float] = (0.0, 0.0)


NAME_SIZE, LABEL_SIZE, EDGE_SIZE = 13.0, 12.0, 10.5
BOX_H, COL_GAP, PAD = 50.0, 56.0, 28.0
TRACK_H, LABEL_BAND, LANE_W = 15.0, 46.0, 14.0
TITLE_H = 56.0


def svg(definition: Definition, lang: str = "zh") -> str:
    """The state graph as a standalone SVG: rows by BFS depth, boxes with name and label, labelled arrows."""
    rows = layers(definition)
    row_of = {name: r for r, row in enumerate(rows) for name in row}
    index_of = {name: i for row in rows for i, name in enumerate(row)}
    box_w = max(
        170.0,
        *(text_width(n, NAME_SIZE) + 24 for n in definition.states),
        *(text_width(definition.state_label(n, lang), LABEL_SIZE) + 24 for n in definition.states),
    )
    col_w = box_w + COL_GAP
    widest = max(len(row) for row in rows)

    edges: list[_Edge] = []
    for t in definition.transitions:
        for source in t.sources:
            label = edge_label(t.trigger, t.roles)
            tooltip = f"{t.trigger} — {definition.trigger_label(t.trigger, lang)}; {', '.join(t.roles)}"
            edge = _Edge(source, t.dest, label, tooltip)
            delta = row_of[t.dest] - row_of[source]
            # One row up or along a row: a single run through the gap between; further: out to a side lane.
            edge.kind = "direct" if delta == 1 else "down" if delta > 1 else "up" if delta < -1 else "same"
            edges.append(edge)

    def column(name: str) -> float:
        return index_of[name] - (len(rows[row_of[name]]) - 1) / 2

    # Routed edges: which side lane (nearest side), which gap tracks (each horizontal run gets its own track).
    lanes = {"left": 0, "right": 0}
    gap_tracks = [0] * len(rows)  # gap r lies below row r
    routed = [e for e in edges if e.kind != "direct"]
    routed.sort(key=lambda e: (abs(row_of[e.dest] - row_of[e.source]), row_of[e.source], e.label, e.source))
    for e in routed:
        if e.kind != "same":
            e.side = "left" if column(e.source) + column(e.dest) < 0 else "right"
            e.lane = lanes[e.side]
            lanes[e.side] += 1
        gaps = {
            "down": [row_of[e.source], row_of[e.dest] - 1],
            "up": [row_of[e.source] - 1, row_of[e.dest]],
            "same": [min(row_of[e.source], row_of[e.dest])],
        }[e.kind]
        for gap in gaps:
            e.tracks.append((gap, gap_tracks[gap]))
            gap_tracks[gap] += 1

    left_margin = PAD + lanes["left"] * LANE_W + (12 if lanes["left"] else 0)
    grid_w = widest * col_w - COL_GAP
    width = left_margin + grid_w + PAD + lanes["right"] * LANE_W + (12 if lanes["right"] else 0)
    centre_x = left_margin + grid_w / 2
    row_y: list[float] = []
    y = TITLE_H
    for r in range(len(rows)):
        row_y.append(y)
        y += BOX_H + gap_tracks[r] * TRACK_H + (LABEL_BAND if r < len(rows) - 1 else 12)
    height = y + PAD

    def box_x(name: str) -> float:
        return centre_x + column(name) * col_w - box_w / 2

    def gap_track_y(gap: int, track: int) -> float:
        return row_y[gap] + BOX_H + 12 + track * TRACK_H

    def lane_x(e: _Edge) -> float:
        if e.side == "left":
            return left_margin - 12 - e.lane * LANE_W
        return left_margin + grid_w + 12 + e.lane * LANE_W

    # Ports: spread each box side's arrows along it, ordered by where their other end lies (fewer crossings).
    ports: dict[tuple[str, str], list[tuple[float, int, str]]] = {}

    def far_x(e: _Edge, here: str) -> float:
        other = e.dest if here == e.source else e.source
        if e.kind in ("direct", "same"):
            return box_x(other) + box_w / 2
        return lane_x(e)

    for i, e in enumerate(edges):
        upward = row_of[e.dest] < row_of[e.source]
        out_side = "top" if upward else "bottom"
        in_side = "top" if e.kind in ("direct", "down") else "bottom"
        ports.setdefault((e.source, out_side), []).append((far_x(e, e.source), i, "start"))
        ports.setdefault((e.dest, in_side), []).append((far_x(e, e.dest), i, "end"))
    for (name, side), users in ports.items():
        users.sort()
        y_side = row_y[row_of[name]] + (BOX_H if side == "bottom" else 0)
        for k, (_far, i, which) in enumerate(users):
            x = box_x(name) + (k + 1) * box_w / (len(users) + 1)
            setattr(edges[i], which, (x, y_side))

    body: list[str] = []
    labels: list[tuple[float, float, str, str]] = []  # x, baseline y, text, anchor
    direct_by_gap: dict[int, list[_Edge]] = {}
    for e in edges:
        if e.kind == "direct":
            direct_by_gap.setdefault(row_of[e.source], []).append(e)
    for gap, group in sorted(direct_by_gap.items()):
        group.sort(key=lambda e: (e.start[0] + e.end[0], e.label))
        # Two label rows, alternating, so neighbouring labels do not sit on top of each other.
        band_top = row_y[gap] + BOX_H + 12 + gap_tracks[gap] * TRACK_H
        for k, e in enumerate(group):
            (x1, y1), (x2, y2) = e.start, e.end
            ly = band_top + 8 + (k % 2) * 16
            lx = x1 + (x2 - x1) * (ly - y1) / (y2 - y1)
            body.append(_path(f"M{x1:.1f},{y1:.1f} L{x2:.1f},{y2:.1f}", e.tooltip))
            labels.append((lx, ly + 3.5, e.label, "middle"))
    for e in edges:
        if e.kind == "direct":
            continue
        (x1, y1), (x2, y2) = e.start, e.end
        ty1 = gap_track_y(*e.tracks[0])
        if e.kind == "same":
            d = f"M{x1:.1f},{y1:.1f} V{ty1:.1f} H{x2:.1f} V{y2:.1f}"
            anchor, lx = ("start", x1 + 6) if x2 > x1 else ("end", x1 - 6)
        else:
            ty2 = gap_track_y(*e.tracks[1])
            d = f"M{x1:.1f},{y1:.1f} V{ty1:.1f} H{lane_x(e):.1f} V{ty2:.1f} H{x2:.1f} V{y2:.1f}"
            anchor, lx = ("end", x1 - 6) if e.side == "left" else ("start", x1 + 6)
        body.append(_path(d, e.tooltip))
        labels.append((lx, ty1 - 3, e.label, anchor))

    for name in state_order(definition):
        body.extend(_box(definition, name, box_x(name), row_y[row_of[name]], box_w, lang))
    # The initial state's entry arrow, as in UML: a filled dot pointing at it.
    ix = box_x(definition.initial) - 30
    iy = row_y[row_of[definition.initial]] + BOX_H / 2
    body.append(f'<circle cx="{ix:.1f}" cy="{iy:.1f}" r="6" fill="#263238"/>')
    body.append(
        f'<path d="M{ix + 6:.1f},{iy:.1f} H{ix + 29:.1f}" stroke="#455a64" stroke-width="1.3" '
        'marker-end="url(#arrow)"/>'
    )
    body.extend(_label(*label) for label in labels)

    # Labels on the side lanes may reach past the grid: widen the canvas and shift the drawing to fit them.
    def extent(x: float, text: str, anchor: str) -> tuple[float, float]:
        w = text_width(text, EDGE_SIZE)
        left = {"start": x, "middle": x - w / 2, "end": x - w}[anchor]
        return left, left + w

    spans = [extent(x, text, anchor) for x, _y, text, anchor in labels]
    shift = max(0.0, PAD - min((left for left, _ in spans), default=PAD))
    title = definition.title.get(lang) or definition.title.get("en") or definition.code
    width = max(
        width + shift, max((right for _, right in spans), default=0) + shift + PAD, text_width(title, 16) + 2 * PAD
    )
    head = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
        f"viewBox=\"0 0 {width:.0f} {height:.0f}\" font-family=\"'Noto Sans CJK SC', 'PingFang SC', "
        f"'Microsoft YaHei', 'Source Han Sans SC', sans-serif\">",
        f"<title>{escape(title)} ({escape(definition.label)})</title>",
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
        'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#455a64"/></marker></defs>',
        f'<rect width="{width:.0f}" height="{height:.0f}" fill="#ffffff"/>',
        f'<text x="{PAD:.0f}" y="26" font-size="16" font-weight="bold" fill="#263238">{escape(title)}</text>',
        f'<text x="{PAD:.0f}" y="44" font-size="12" fill="#607d8b">{escape(definition.label)} · '
        f"{len(definition.states)} states · {len(definition.triggers)} triggers</text>",
        f'<g transform="translate({shift:.1f} 0)">',
    ]
    return "\n".join([*head, *body, "</g>", "</svg>"]) + "\n"


def _box(definition: Definition, name: str, x: float, y: float, width: float, lang: str) -> list[str]:
    state = definition.states[name]
    fill = "#e3f2fd" if name == definition.initial else "#eceff1" if state.terminal else "#f5f7f8"
    out = [
        f'<g class="state" id={quoteattr("state-" + name)}>',
        f'<rect x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" height="{BOX_H:.0f}" rx="8" fill="{fill}" '
        f'stroke="#37474f" stroke-width="{2.4 if state.terminal else 1.2}"/>',
    ]
    if state.terminal:  # a double border, as terminal states are drawn in UML
        out.append(
            f'<rect x="{x + 3:.1f}" y="{y + 3:.1f}" width="{width - 6:.1f}" height="{BOX_H - 6:.0f}" rx="6" '
            'fill="none" stroke="#37474f" stroke-width="0.8"/>'
        )
    out.append(
        f'<text x="{x + width / 2:.1f}" y="{y + 20:.1f}" font-size="{NAME_SIZE:g}" font-weight="bold" '
        f'text-anchor="middle" fill="#263238" font-family="monospace">{escape(name)}</text>'
    )
    out.append(
        f'<text x="{x + width / 2:.1f}" y="{y + 39:.1f}" font-size="{LABEL_SIZE:g}" text-anchor="middle" '
        f'fill="#455a64">{escape(definition.state_label(name, lang))}</text>'
    )
    out.append("</g>")
    return out


def _path(d: str, tooltip: str) -> str:

    return (
        f'<path class="edge" d="{d}" fill="none" stroke="#455a64" stroke-width="1.3" '
        f'stroke-linejoin="round" marker-end="url(#arrow)"><title>{escape(tooltip)}</title></path>'
    )


def _label(x: float, y: float, text: str, anchor: str) -> str:
    # A white halo keeps the label readable where it crosses a line.
    return (
        f'<text class="edge-label" x="{x:.1f}" y="{y:.1f}" font-size="{EDGE_SIZE:g}" text-anchor="{anchor}" '
        f'fill="#1a237e" stroke="#ffffff" stroke-width="3" paint-order="stroke">{escape(text)}</text>'
    )


DOCS_BEGIN = "<!-- diagrams:begin -->"
DOCS_END = "<!-- diagrams:end -->"


def docs_section(definitions: list[Definition]) -> str:
    """The Markdown block docs/architecture.md carries between its diagram markers."""
    parts = [DOCS_BEGIN]
    for d in definitions:
        title = d.title.get("zh", d.code)
        parts.append(f"\n### `{d.label}` — {title}\n\n```mermaid\n{mermaid(d).rstrip()}\n```")
    parts.append(DOCS_END)
    return "\n".join(parts)


def replace_docs_section(text: str, definitions: list[Definition]) -> str:
    start, end = text.index(DOCS_BEGIN), text.index(DOCS_END) + len(DOCS_END)
    return text[:start] + docs_section(definitions) + text[end:]
