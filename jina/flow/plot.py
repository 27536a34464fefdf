"""`Flow.plot()`: the Flow's graph drawn here, as SVG or PNG, with no network at all.

Jina sends its graph to an online Mermaid service and downloads the picture; here one layout
(`layout()`: boxes, edges, the canvas) is computed from the executors and written by one of two
writers, SVG text or a PNG drawn with Pillow. The picture reads as Jina's: the request enters
at a `gateway` node, runs through the executors along their `needs`, and the last executor's
answer goes back to a `gateway` node at the other end. An executor nothing waits for, and that
is not the last one, is "floating" (as Jina calls it): drawn with a dashed border, without an
edge onwards.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

GATEWAY = "gateway"
#: the keys of the two gateway boxes (Jina's `gatewaystart` / `gatewayend`)
START, END = "gateway-start", "gateway-end"
#: what write_plot() writes, by file suffix
FORMATS = (".svg", ".png")
#: a PNG's pixels per layout unit (sharp on high-density screens)
PNG_SCALE = 2

FONT_SIZE = 13
SMALL_FONT_SIZE = 11
_CHAR_WIDTH = 0.62  # of the font size: a generous average, so that a label fits whatever the font
_LINE_HEIGHT = 1.45
_PAD_X, _PAD_Y = 14, 9
_MIN_WIDTH = 72
_LAYER_GAP = 64  # between two layers (columns, or rows when vertical)
_NODE_GAP = 22  # between two boxes of one layer
_MARGIN = 20
_STACK = 4  # offset of the boxes drawn behind an executor with several replicas or shards

COLORS = {
    "background": "#ffffff",
    "executor": "#32c8cd",  # Jina's node colour
    "executor_text": "#0b2e30",
    "external": "#ffffff",
    "border": "#1f8f93",
    "gateway_text": "#000000",
    "edge": "#7fb9bb",
    "muted": "#35595b",
}


@dataclass(frozen=True)
class PlotNode:
    """One executor as the plot sees it. `needs` may name "gateway"; empty means the node listed before."""

    name: str
    needs: tuple[str, ...] = ()
    replicas: int = 1
    shards: int = 1
    external: bool = False
    uses: str = ""

    def __post_init__(self) -> None:
        if isinstance(self.needs, str):
            object.__setattr__(self, "needs", (self.needs,))
        else:
            object.__setattr__(self, "needs", tuple(self.needs))


@dataclass(frozen=True)
class Box:
    key: str  # the executor's name, or START / END
    kind: str  # "executor" or "gateway"
    lines: tuple[str, ...]  # the first is the name, in the larger font
    x: float
    y: float
    width: float
    height: float
    copies: int = 1  # replicas × shards: >1 draws boxes stacked behind
    external: bool = False
    floating: bool = False

    @property
    def center(self) -> tuple[float, float]:
        return self.x + self.width / 2, self.y + self.height / 2


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    #: a cubic Bézier: start, two control points, end (the arrow's tip)
    points: tuple[tuple[float, float], tuple[float, float], tuple[float, float], tuple[float, float]]

    def sample(self, steps: int = 24) -> list[tuple[float, float]]:
        """Points along the curve (for writers that draw polylines)."""
        (x0, y0), (x1, y1), (x2, y2), (x3, y3) = self.points
        out = []
        for i in range(steps + 1):
            t = i / steps
            a, b, c, d = (1 - t) ** 3, 3 * (1 - t) ** 2 * t, 3 * (1 - t) * t**2, t**3
            out.append((a * x0 + b * x1 + c * x2 + d * x3, a * y0 + b * y1 + c * y2 + d * y3))
        return out

    def arrowhead(self, length: float = 9, half_width: float = 4.5) -> tuple[tuple[float, float], ...]:
        """The triangle at the end of the edge, pointing along the curve's last tangent."""
        (x2, y2), (x3, y3) = self.points[2], self.points[3]
        angle = math.atan2(y3 - y2, x3 - x2)
        bx, by = x3 - length * math.cos(angle), y3 - length * math.sin(angle)
        nx, ny = -math.sin(angle) * half_width, math.cos(angle) * half_width
        return (x3, y3), (bx + nx, by + ny), (bx - nx, by - ny)


@dataclass(frozen=True)
class Layout:
    width: float
    height: float
    boxes: tuple[Box, ...]
    edges: tuple[Edge, ...]
    vertical: bool = False
    _by_key: dict[str, Box] = field(default_factory=dict, compare=False, repr=False)

    def box(self, key: str) -> Box:
        return self._by_key[key]

    @property
    def executors(self) -> tuple[Box, ...]:
        return tuple(box for box in self.boxes if box.kind == "executor")


# -- the layout -----------------------------------------------------------------------------


def resolve_needs(nodes: Sequence[PlotNode]) -> dict[str, tuple[str, ...]]:
    """Every executor's needs, with an empty one meaning the executor listed before (as jina.topology)."""
    needs: dict[str, tuple[str, ...]] = {}
    previous = GATEWAY
    for node in nodes:
        if not node.name or node.name == GATEWAY or node.name in needs:
            raise ValueError(f"executor name {node.name!r}: names must be unique, non-empty and not 'gateway'")
        needs[node.name] = tuple(dict.fromkeys(node.needs)) or (previous,)
        previous = node.name
    for name, wanted in needs.items():
        for need in wanted:
            if need != GATEWAY and need not in needs:
                raise ValueError(f"executor {name!r} needs {need!r}, which is not in the Flow")
    return needs


def _layers(needs: dict[str, tuple[str, ...]]) -> dict[str, int]:
    """Each executor's column: one after the furthest of its needs (the gateway's is 0)."""
    layer: dict[str, int] = {GATEWAY: 0}
    visiting: set[str] = set()

    def depth(name: str) -> int:
        if name in layer:
            return layer[name]
        if name in visiting:
            raise ValueError(f"the executors' needs form a cycle through {name!r}")
        visiting.add(name)
        layer[name] = 1 + max(depth(need) for need in needs[name])
        return layer[name]

    for name in needs:
        depth(name)
    del layer[GATEWAY]
    return layer


def _labels(node: PlotNode) -> tuple[str, ...]:
    facts = []
    if node.shards > 1:
        facts.append(f"{node.shards} shards")
    if node.replicas > 1:
        facts.append(f"{node.replicas} replicas")
    if node.external:
        facts.append("external")
    lines = [node.name]
    if facts:
        lines.append(" · ".join(facts))
    if node.uses and node.uses != node.name:
        lines.append(node.uses if len(node.uses) <= 40 else node.uses[:39] + "…")
    return tuple(lines)


def _size(lines: Sequence[str]) -> tuple[float, float]:
    sizes = [FONT_SIZE] + [SMALL_FONT_SIZE] * (len(lines) - 1)
    width = max(len(line) * size * _CHAR_WIDTH for line, size in zip(lines, sizes, strict=True))
    height = sum(size * _LINE_HEIGHT for size in sizes)
    return max(_MIN_WIDTH, width + 2 * _PAD_X), height + 2 * _PAD_Y


def _ordered(columns: list[list[str]], needs: dict[str, tuple[str, ...]]) -> list[list[str]]:
    """Each column sorted by where its needs sit (fewer crossings); ties keep the order of the Flow."""
    position: dict[str, float] = {START: 0.0}
    out = []
    for column in columns:

        def key(name: str, column: list[str] = column) -> tuple[float, int]:
            places = [position.get(START if need == GATEWAY else need, 0.0) for need in needs.get(name, ())]
            return (sum(places) / len(places) if places else 0.0), column.index(name)

        ordered = sorted(column, key=key)
        position.update({name: float(i) - (len(ordered) - 1) / 2 for i, name in enumerate(ordered)})
        out.append(ordered)
    return out


def layout(nodes: Iterable[PlotNode], vertical: bool = False) -> Layout:
    """Where every box and edge goes: columns left to right (rows top to bottom when `vertical`)."""
    nodes = list(nodes)
    needs = resolve_needs(nodes)
    by_name = {node.name: node for node in nodes}
    layer = _layers(needs)
    last = nodes[-1].name if nodes else GATEWAY
    consumed = {need for wanted in needs.values() for need in wanted}
    depth = max(layer.values(), default=0) + 1
    columns: list[list[str]] = [[START]] + [[] for _ in range(depth - 1)] + [[END]]
    for name in needs:
        columns[layer[name]].append(name)
    columns = _ordered(columns, needs)

    specs: dict[str, tuple[str, tuple[str, ...], PlotNode | None]] = {
        START: ("gateway", (GATEWAY,), None),
        END: ("gateway", (GATEWAY,), None),
    }
    for name, node in by_name.items():
        specs[name] = ("executor", _labels(node), node)
    sizes = {key: _size(lines) for key, (_, lines, _) in specs.items()}

    # along: the direction of the flow; across: the boxes of one layer
    def along(key: str) -> float:
        return sizes[key][1] if vertical else sizes[key][0]

    def across(key: str) -> float:
        return sizes[key][0] if vertical else sizes[key][1]

    thickness = [max(along(key) for key in column) for column in columns]
    spans = [sum(across(key) for key in column) + _NODE_GAP * (len(column) - 1) for column in columns]
    breadth = max(spans) + _STACK * 2
    boxes: list[Box] = []
    offset = float(_MARGIN)
    for column, thick, span in zip(columns, thickness, spans, strict=True):
        cursor = _MARGIN + (breadth - span) / 2
        for key in column:
            kind, lines, node = specs[key]
            width, height = sizes[key]
            a, c = offset + (thick - along(key)) / 2, cursor
            x, y = (c, a) if vertical else (a, c)
            copies = node.replicas * node.shards if node else 1
            boxes.append(
                Box(
                    key=key,
                    kind=kind,
                    lines=lines,
                    x=x,
                    y=y,
                    width=width,
                    height=height,
                    copies=max(copies, 1),
                    external=bool(node and node.external),
                    floating=node is not None and key not in consumed and key != last,
                )
            )
            cursor += across(key) + _NODE_GAP
        offset += thick + _LAYER_GAP
    total_along = offset - _LAYER_GAP + _MARGIN + _STACK * 2
    total_across = breadth + 2 * _MARGIN
    width, height = (total_across, total_along) if vertical else (total_along, total_across)
    placed = {box.key: box for box in boxes}

    links = [(START if need == GATEWAY else need, name) for name, wanted in needs.items() for need in wanted]
    links.append((last if nodes else START, END))
    edges = tuple(Edge(source, target, _curve(placed[source], placed[target], vertical)) for source, target in links)
    return Layout(width, height, tuple(boxes), edges, vertical, placed)


def _curve(source: Box, target: Box, vertical: bool):
    if vertical:
        start = (source.x + source.width / 2, source.y + source.height)
        end = (target.x + target.width / 2, target.y)
        bend = (end[1] - start[1]) / 2
        return start, (start[0], start[1] + bend), (end[0], end[1] - bend), end
    start = (source.x + source.width, source.y + source.height / 2)
    end = (target.x, target.y + target.height / 2)
    bend = (end[0] - start[0]) / 2
    return start, (start[0] + bend, start[1]), (end[0] - bend, end[1]), end


# -- SVG ------------------------------------------------------------------------------------


def _n(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _svg_box(box: Box) -> list[str]:
    classes = ["node", box.kind] + (["external"] if box.external else []) + (["floating"] if box.floating else [])
    title = (
        box.key if box.kind == "executor" else ("gateway (the request)" if box.key == START else "gateway (the answer)")
    )
    out = [
        f"<g class={quoteattr(' '.join(classes))} data-name={quoteattr(box.key)}>",
        f"<title>{escape(title)}</title>",
    ]
    if box.kind == "executor":
        fill = COLORS["external"] if box.external else COLORS["executor"]
        dash = ' stroke-dasharray="5 3"' if box.floating else ""
        for i in range(min(box.copies, 3) - 1, 0, -1):  # the replicas/shards behind it
            out.append(
                f'<rect class="copy" x="{_n(box.x + i * _STACK)}" y="{_n(box.y + i * _STACK)}" '
                f'width="{_n(box.width)}" height="{_n(box.height)}" rx="6" fill="{fill}" '
                f'stroke="{COLORS["border"]}" opacity="0.55"/>'
            )
        out.append(
            f'<rect x="{_n(box.x)}" y="{_n(box.y)}" width="{_n(box.width)}" height="{_n(box.height)}" rx="6" '
            f'fill="{fill}" stroke="{COLORS["border"]}" stroke-width="{2 if box.external else 1}"{dash}/>'
        )
    cx = box.x + box.width / 2
    y = box.y + _PAD_Y
    for i, line in enumerate(box.lines):
        size = FONT_SIZE if i == 0 else SMALL_FONT_SIZE
        y += size * _LINE_HEIGHT
        color = (
            COLORS["gateway_text"] if box.kind == "gateway" else COLORS["executor_text"] if i == 0 else COLORS["muted"]
        )
        weight = ' font-weight="bold"' if i == 0 and box.kind == "executor" else ""
        out.append(
            f'<text x="{_n(cx)}" y="{_n(y - size * 0.4)}" font-size="{size}" fill="{color}"{weight} '
            f'text-anchor="middle">{escape(line)}</text>'
        )
    out.append("</g>")
    return out


def to_svg(plan: Layout) -> str:
    """The layout as a standalone SVG document."""
    names = ", ".join(box.key for box in plan.executors) or "no executors"
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_n(plan.width)}" height="{_n(plan.height)}" '
        f'viewBox="0 0 {_n(plan.width)} {_n(plan.height)}" role="img" '
        'font-family="Helvetica, Arial, sans-serif">',
        f"<title>{escape(f'Flow: {names}')}</title>",
        "<defs>",
        '<marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="8" markerHeight="8" '
        f'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="{COLORS["edge"]}"/></marker>',
        "</defs>",
        f'<rect width="100%" height="100%" fill="{COLORS["background"]}"/>',
        '<g class="edges">',
    ]
    for edge in plan.edges:
        (x0, y0), (x1, y1), (x2, y2), (x3, y3) = edge.points
        out.append(
            f'<path class="edge" data-source={quoteattr(edge.source)} data-target={quoteattr(edge.target)} '
            f'd="M{_n(x0)},{_n(y0)} C{_n(x1)},{_n(y1)} {_n(x2)},{_n(y2)} {_n(x3)},{_n(y3)}" fill="none" '
            f'stroke="{COLORS["edge"]}" stroke-width="2" marker-end="url(#arrow)"/>'
        )
    out += ["</g>", '<g class="nodes">']
    for box in plan.boxes:
        out += _svg_box(box)
    out += ["</g>", "</svg>", ""]
    return "\n".join(out)


def render_svg(nodes: Iterable[PlotNode], vertical: bool = False) -> str:
    """The Flow's graph as SVG text: a node group per executor, the two gateway ends, an edge per need."""
    return to_svg(layout(nodes, vertical))


# -- PNG ------------------------------------------------------------------------------------


def _rgb(color: str) -> tuple[int, int, int]:
    return int(color[1:3], 16), int(color[3:5], 16), int(color[5:7], 16)


def to_png(plan: Layout, path: str | os.PathLike, scale: int = PNG_SCALE) -> None:
    """The layout drawn with Pillow (its own bundled font: nothing is fetched) into a PNG file."""
    try:
        from PIL import Image, ImageDraw, ImageFont
    except ImportError:
        raise RuntimeError("writing a PNG plot needs Pillow (pip install pillow); an .svg needs nothing") from None

    def s(value: float) -> float:
        return value * scale

    def font(size: int):
        try:
            return ImageFont.load_default(size=size * scale)
        except (TypeError, ImportError, OSError):  # a Pillow without FreeType: its fixed bitmap font
            return ImageFont.load_default()

    image = Image.new("RGB", (math.ceil(s(plan.width)), math.ceil(s(plan.height))), _rgb(COLORS["background"]))
    draw = ImageDraw.Draw(image)
    edge = _rgb(COLORS["edge"])
    for link in plan.edges:
        draw.line([(s(x), s(y)) for x, y in link.sample()], fill=edge, width=2 * scale, joint="curve")
        draw.polygon([(s(x), s(y)) for x, y in link.arrowhead()], fill=edge)
    fonts = {FONT_SIZE: font(FONT_SIZE), SMALL_FONT_SIZE: font(SMALL_FONT_SIZE)}
    for box in plan.boxes:
        if box.kind == "executor":
            fill = _rgb(COLORS["external"] if box.external else COLORS["executor"])
            border = _rgb(COLORS["border"])
            for i in range(min(box.copies, 3) - 1, 0, -1):
                rect = (s(box.x + i * _STACK), s(box.y + i * _STACK), s(box.x + i * _STACK + box.width),
                        s(box.y + i * _STACK + box.height))  # fmt: skip
                draw.rounded_rectangle(rect, radius=s(6), fill=_blend(fill, 0.55), outline=_blend(border, 0.55))
            rect = (s(box.x), s(box.y), s(box.x + box.width), s(box.y + box.height))
            draw.rounded_rectangle(
                rect, radius=s(6), fill=fill, outline=border, width=(2 if box.external else 1) * scale
            )
            if box.floating:
                _dash_outline(draw, rect, _rgb(COLORS["background"]), scale)
        y = box.y + _PAD_Y
        for i, line in enumerate(box.lines):
            size = FONT_SIZE if i == 0 else SMALL_FONT_SIZE
            y += size * _LINE_HEIGHT
            color = (
                COLORS["gateway_text"]
                if box.kind == "gateway"
                else COLORS["executor_text"]
                if i == 0
                else COLORS["muted"]
            )
            draw.text(
                (s(box.x + box.width / 2), s(y - size * 0.4)), line, fill=_rgb(color), font=fonts[size], anchor="ms"
            )
    image.save(os.fspath(path), format="PNG")


def _blend(color: tuple[int, int, int], alpha: float) -> tuple[int, int, int]:
    """`color` at `alpha` over the white background."""
    return tuple(round(c * alpha + 255 * (1 - alpha)) for c in color)  # type: ignore[return-value]


def _dash_outline(draw, rect: tuple[float, float, float, float], gap_color, scale: int) -> None:
    """Gaps cut into a box's border, so that it reads as dashed (a floating executor)."""
    left, top, right, bottom = rect
    step, gap = 8 * scale, 3 * scale
    for x in range(int(left + step), int(right - step), step):
        draw.line([(x, top), (x + gap, top)], fill=gap_color, width=scale)
        draw.line([(x, bottom), (x + gap, bottom)], fill=gap_color, width=scale)


# -- the file -------------------------------------------------------------------------------


def write_plot(nodes: Iterable[PlotNode], path: str | os.PathLike, vertical: bool = False) -> Path:
    """Write the Flow's graph to `path`: SVG or PNG by its suffix (anything else is a ValueError)."""
    target = Path(path)
    suffix = target.suffix.lower()
    if suffix not in FORMATS:
        raise ValueError(f"cannot plot to {str(target)!r}: the file name must end in .svg or .png")
    plan = layout(nodes, vertical)
    if suffix == ".svg":
        target.write_text(to_svg(plan), encoding="utf-8")
    else:
        to_png(plan, target)
    return target
