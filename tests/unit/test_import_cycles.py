"""No import cycles: every module's imports point one way, so any package can be read (and
loaded) from the bottom up.

Every import statement counts — at module level, inside a function, and under
`if TYPE_CHECKING:` — because a cycle hidden in a function or a type-only import is still two
modules that each need the other. The graph is built by grimp from the source (nothing is
imported); a failure names each cycle as a chain of modules.
"""

from __future__ import annotations

from collections.abc import Iterator

import grimp
import pytest

PACKAGES = ["walletflow"]


def strongly_connected(graph: grimp.ImportGraph) -> list[list[str]]:
    """The graph's cycles as Tarjan's strongly connected components of more than one module
    (iterative, so a deep package cannot overflow the stack)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[list[str]] = []
    work: list[tuple[str, Iterator[str]]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        work.append((module, iter(sorted(graph.find_modules_directly_imported_by(module)))))

    for root in sorted(graph.modules):
        if root in index:
            continue
        visit(root)
        while work:
            module, successors = work[-1]
            for successor in successors:
                if successor not in index:
                    visit(successor)
                    break
                if successor in on_stack:
                    low[module] = min(low[module], index[successor])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[module])
                if low[module] == index[module]:
                    component: list[str] = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == module:
                            break
                    if len(component) > 1:
                        components.append(sorted(component))
    return components


def describe(graph: grimp.ImportGraph, component: list[str]) -> str:
    """One cycle through the component's first module, e.g. `a -> b -> a`."""
    first = component[0]
    back = min(
        (
            chain
            for importer in graph.find_modules_that_directly_import(first)
            if importer in component
            and (chain := graph.find_shortest_chain(importer=first, imported=importer))
        ),
        key=len,
    )
    return " -> ".join((*back, first)) + f"  ({len(component)} modules in the loop)"


def test_the_detector_names_a_cycle_and_passes_a_chain() -> None:
    graph = grimp.ImportGraph()
    for importer, imported in [("p.a", "p.b"), ("p.b", "p.c"), ("p.c", "p.a"), ("p.c", "p.d")]:
        graph.add_import(importer=importer, imported=imported)
    [component] = strongly_connected(graph)
    assert component == ["p.a", "p.b", "p.c"]
    assert describe(graph, component) == "p.a -> p.b -> p.c -> p.a  (3 modules in the loop)"
    graph.remove_import(importer="p.c", imported="p.a")
    assert strongly_connected(graph) == []


@pytest.mark.parametrize("package", PACKAGES)
def test_package_has_no_import_cycle(package: str) -> None:
    graph = grimp.build_graph(package, cache_dir=None)
    cycles = [describe(graph, component) for component in strongly_connected(graph)]
    assert cycles == [], "import cycles:\n  " + "\n  ".join(cycles)
