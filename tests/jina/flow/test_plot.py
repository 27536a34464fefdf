"""The Flow's picture, drawn locally: SVG structure, PNG size, and no network connection at all."""

from __future__ import annotations

import json
import math
import xml.etree.ElementTree as ET

import pytest
from PIL import Image

from jina.flow.plot import END, PNG_SCALE, START, PlotNode, layout, render_svg, write_plot
from tests.conftest import run_python

SVG = "{http://www.w3.org/2000/svg}"

# gateway → encoder (2 replicas), gateway → index (2 shards, external), both → join; then a chain step
JOIN = [
    PlotNode("encoder", ("gateway",), replicas=2, uses="MyEncoder"),
    PlotNode("index", ("gateway",), shards=2, external=True),
    PlotNode("join", ("encoder", "index")),
    PlotNode("ranker"),  # no needs: the node listed before
]


def groups(svg: str, kind: str) -> list[ET.Element]:
    root = ET.fromstring(svg)
    return [g for g in root.iter(f"{SVG}g") if kind in g.get("class", "").split()]


def edges(svg: str) -> list[tuple[str, str]]:
    root = ET.fromstring(svg)
    return [(p.get("data-source"), p.get("data-target")) for p in root.iter(f"{SVG}path") if p.get("class") == "edge"]


def label(group: ET.Element) -> list[str]:
    return [text.text for text in group.iter(f"{SVG}text")]


def test_a_join_graph_has_a_node_per_executor_and_an_edge_per_need():
    svg = render_svg(JOIN)
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg" and float(root.get("width")) > 0 and float(root.get("height")) > 0
    nodes = groups(svg, "executor")
    assert [g.get("data-name") for g in nodes] == ["encoder", "index", "join", "ranker"]
    assert [g.get("data-name") for g in groups(svg, "gateway")] == [START, END]
    assert sorted(edges(svg)) == sorted(
        [
            (START, "encoder"),
            (START, "index"),
            ("encoder", "join"),
            ("index", "join"),
            ("join", "ranker"),
            ("ranker", END),  # the last executor answers the request
        ]
    )
    labels = {g.get("data-name"): label(g) for g in nodes}
    assert labels["encoder"] == ["encoder", "2 replicas", "MyEncoder"]
    assert labels["index"] == ["index", "2 shards · external"]
    assert labels["join"] == ["join"]
    assert "external" in groups(svg, "executor")[1].get("class").split()


def test_a_floating_executor_is_marked_and_leads_nowhere():
    # "side" needs the gateway and nothing needs it; "b" is the last executor, so it answers
    nodes = [PlotNode("a"), PlotNode("side", ("gateway",)), PlotNode("b", ("a",))]
    svg = render_svg(nodes)
    assert [g.get("data-name") for g in groups(svg, "floating")] == ["side"]
    assert not [edge for edge in edges(svg) if edge[0] == "side"]
    assert ("b", END) in edges(svg)


def test_columns_follow_the_needs_and_vertical_turns_them_into_rows():
    plan = layout(JOIN)
    x = {box.key: box.center[0] for box in plan.boxes}
    assert x["encoder"] == pytest.approx(x["index"])  # one column: both need only the gateway
    assert x[START] < x["encoder"] < x["join"] < x["ranker"] < x[END]
    tall = layout(JOIN, vertical=True)
    y = {box.key: box.center[1] for box in tall.boxes}
    assert y["encoder"] == pytest.approx(y["index"])
    assert y[START] < y["encoder"] < y["join"] < y["ranker"] < y[END]
    assert tall.height > tall.width
    for box in plan.boxes:  # everything on the canvas
        assert 0 <= box.x and box.x + box.width <= plan.width and 0 <= box.y and box.y + box.height <= plan.height


def test_names_are_escaped():
    svg = render_svg([PlotNode('a<&>"b', uses="x&y")])
    assert [g.get("data-name") for g in groups(svg, "executor")] == ['a<&>"b']
    assert label(groups(svg, "executor")[0]) == ['a<&>"b', "x&y"]


def test_an_empty_flow_goes_from_gateway_to_gateway():
    assert edges(render_svg([])) == [(START, END)]


@pytest.mark.parametrize(
    ("nodes", "message"),
    [
        ([PlotNode("a", ("nowhere",))], "needs 'nowhere'"),
        ([PlotNode("a"), PlotNode("a")], "unique"),
        ([PlotNode("gateway")], "not 'gateway'"),
        ([PlotNode("a", ("b",)), PlotNode("b", ("a",))], "cycle"),
    ],
)
def test_bad_graphs_are_errors(nodes, message):
    with pytest.raises(ValueError, match=message):
        render_svg(nodes)


def test_write_plot_chooses_svg_or_png_by_suffix(tmp_path):
    svg = write_plot(JOIN, tmp_path / "flow.svg")
    assert len(groups(svg.read_text(), "executor")) == 4
    png = write_plot(JOIN, tmp_path / "flow.PNG")
    plan = layout(JOIN)
    with Image.open(png) as image:
        assert image.format == "PNG"
        assert image.size == (math.ceil(plan.width * PNG_SCALE), math.ceil(plan.height * PNG_SCALE))
        # drawn, not blank: the executors' colour is there
        assert (0x32, 0xC8, 0xCD) in {color for _, color in image.convert("RGB").getcolors(1 << 20)}
    with pytest.raises(ValueError, match=r"\.svg or \.png"):
        write_plot(JOIN, tmp_path / "flow.jpg")
    assert not (tmp_path / "flow.jpg").exists()


# every way Python code reaches the network goes through these audit events (sockets, name lookups)
NO_NETWORK = """
import sys

def guard(event, args):
    if event.startswith("socket.") or event in ("urllib.Request", "http.client.connect"):
        raise PermissionError(f"plotting touched the network: {event} {args!r}")

sys.addaudithook(guard)
"""


def test_plotting_opens_no_network_connection(tmp_path):
    nodes = json.dumps([node.__dict__ for node in JOIN])
    code = NO_NETWORK + (
        "import json\n"
        "from jina.flow.plot import PlotNode, write_plot\n"
        f"nodes = [PlotNode(**{{**n, 'needs': tuple(n['needs'])}}) for n in json.loads({nodes!r})]\n"
        f"write_plot(nodes, {str(tmp_path / 'f.svg')!r})\n"
        f"write_plot(nodes, {str(tmp_path / 'f.png')!r}, vertical=True)\n"
        "import socket\n"
        "try:\n"
        "    socket.create_connection(('127.0.0.1', 9))\n"
        "except PermissionError:\n"
        "    print('guarded')\n"
    )
    result = run_python(code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["guarded"]  # the guard was on, and plotting never tripped it
    assert (tmp_path / "f.svg").stat().st_size > 0 and (tmp_path / "f.png").stat().st_size > 0


def test_flow_plot_draws_the_flows_executors_offline(tmp_path):
    code = NO_NETWORK + (
        "from jina import Flow\n"
        "f = Flow().add(name='a', replicas=2).add(name='b', needs='gateway').add(name='c', needs=['a', 'b'])\n"
        f"f.plot({str(tmp_path / 'flow.svg')!r})\n"
    )
    result = run_python(code)
    assert result.returncode == 0, result.stderr
    svg = (tmp_path / "flow.svg").read_text()
    assert [g.get("data-name") for g in groups(svg, "executor")] == ["a", "b", "c"]
    assert len(edges(svg)) == 5
