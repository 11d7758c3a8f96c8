"""Pictures drawn on the server as SVG (no script, no outside library): horizontal bars with their labels and
values, sized for a phone and scaling to any width."""

from __future__ import annotations

from html import escape

ROW = 26
LABEL = 190
BAR = 260
PAD = 8


def bars(title: str, items: list[tuple[str, float]], unit: str = "") -> str:
    """A bar per (label, value); the longest bar is the largest value."""
    largest = max((value for _, value in items), default=0) or 1
    height = PAD * 2 + 24 + ROW * max(1, len(items))
    width = LABEL + BAR + 90
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" role="img" '
        f'aria-label="{escape(title)}" font-family="sans-serif" font-size="13">',
        f"<title>{escape(title)}</title>",
        f'<text x="{PAD}" y="{PAD + 14}" font-weight="bold">{escape(title)}</text>',
    ]
    if not items:
        out.append(f'<text x="{PAD}" y="{PAD + 24 + 18}" fill="#52606d">—</text>')
    for n, (label, value) in enumerate(items):
        y = PAD + 24 + n * ROW
        length = 0 if value <= 0 else max(2, round(BAR * value / largest))
        shown = f"{value:g}{unit}"
        out += [
            f'<text x="{LABEL - 6}" y="{y + 17}" text-anchor="end">{escape(label)}</text>',
            f'<rect x="{LABEL}" y="{y + 4}" width="{length}" height="{ROW - 8}" fill="#1f6feb">'
            f"<title>{escape(label)}: {escape(shown)}</title></rect>",
            f'<text x="{LABEL + length + 6}" y="{y + 17}">{escape(shown)}</text>',
        ]
    out.append("</svg>")
    return "".join(out)
