#!/usr/bin/python3
"""Expected values for tests/unit/test_analysis_graph.cpp, from networkx 2.8.

The C++ network measures are built on igraph; these numbers come from
networkx's own implementations, an independent computation. Run it and paste
the printed blocks into the test when a graph there changes:

    /usr/bin/python3 tests/unit/analysis_graph_expected.py
"""
import textwrap

import networkx as nx
from networkx.algorithms.community import modularity


def two_groups():
    """30 nodes: two dense groups of 15 (pairs kept by a fixed rule) and three bridges."""
    g = nx.Graph()
    g.add_nodes_from(range(30))
    for base in (0, 15):
        for a in range(15):
            for b in range(a + 1, 15):
                if (a * 7 + b * 3) % 5 != 0:
                    g.add_edge(base + a, base + b)
    g.add_edges_from([(0, 15), (5, 20), (10, 25)])
    return g


def components():
    """9 nodes: a triangle with a tail (0-4), a triangle with a pendant (5-8) ... and 8 isolated."""
    g = nx.Graph()
    g.add_nodes_from(range(9))
    g.add_edges_from([(0, 1), (1, 2), (0, 2), (2, 3), (3, 4), (5, 6), (6, 7), (5, 7)])
    return g


def decl(head, items):
    """A C++ initialiser of the items (strings), wrapped at 120 columns between items."""
    lines, line = [], f"{head} = {{"
    for k, item in enumerate(items):
        piece = item + ("};" if k == len(items) - 1 else ",")
        if len(line) + 1 + len(piece) > 118 and not line.endswith("{"):
            lines.append(line)
            line = "    " + piece
        else:
            line += ("" if line.endswith("{") else " ") + piece
    lines.append(line if items else line + "};")
    return "\n".join(lines)


def edges_cpp(g):
    return [f"{{{a}, {b}}}" for a, b in sorted(tuple(sorted(e)) for e in g.edges())]


def arr(values):
    return ["NAN" if v != v else repr(float(v)) for v in values]


def dump(name, g):
    nodes = sorted(g.nodes())
    deg = dict(g.degree())
    clu = nx.clustering(g)
    btw = nx.betweenness_centrality(g, normalized=True)
    clo = nx.closeness_centrality(g)  # wf_improved=True
    print(f"// {name}: {g.number_of_nodes()} nodes, {g.number_of_edges()} edges")
    print(decl(f"const std::vector<Edge> k{name}Edges", edges_cpp(g)))
    print(f"// networkx.degree")
    print(decl(f"const std::vector<double> k{name}Degree", arr(deg[v] for v in nodes)))
    print(f"// networkx.clustering")
    print(decl(f"const std::vector<double> k{name}Clustering", arr(clu[v] for v in nodes)))
    print(f"// networkx.betweenness_centrality(normalized=True)")
    print(decl(f"const std::vector<double> k{name}Betweenness", arr(btw[v] for v in nodes)))
    print(f"// networkx.closeness_centrality (wf_improved=True)")
    print(decl(f"const std::vector<double> k{name}Closeness", arr(clo[v] for v in nodes)))
    largest = max(len(c) for c in nx.connected_components(g))
    assort = nx.degree_assortativity_coefficient(g)  # nan (with a warning) for a regular graph
    glob = [
        ("average_degree", 2 * g.number_of_edges() / g.number_of_nodes(), "2m / n"),
        ("average_clustering", nx.average_clustering(g), "networkx.average_clustering"),
        ("transitivity", nx.transitivity(g), "networkx.transitivity"),
        ("global_efficiency", nx.global_efficiency(g), "networkx.global_efficiency"),
        ("largest_component", largest / g.number_of_nodes(), "largest networkx.connected_components / n"),
        ("assortativity", assort, "networkx.degree_assortativity_coefficient"),
    ]
    for k, _, w in glob:
        print(f"// {k}: {w}")
    print(decl(f"const Globals k{name}Globals", arr(v for _, v, _ in glob)))
    print()


if __name__ == "__main__":
    print(f"// networkx {nx.__version__}")
    dump("Karate", nx.karate_club_graph())
    g = two_groups()
    dump("TwoGroups", g)
    part = [set(range(15)), set(range(15, 30))]
    print("// networkx.algorithms.community.modularity(G, [{0..14}, {15..29}])")
    print(f"const double kTwoGroupsModularity = {modularity(g, part)!r};")
    print()
    dump("Components", components())
