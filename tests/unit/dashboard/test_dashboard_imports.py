"""The dashboard's imports point one way (app → pages → forms/components → state → data → api):
no module imports, even lazily inside a function, one that imports it back."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE_NAME = "walletflow_dashboard"
PACKAGE = Path(__file__).resolve().parents[3] / "dashboard" / PACKAGE_NAME


def module_name(path: Path, package: Path) -> str:
    parts = path.relative_to(package.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph(package: Path = PACKAGE) -> dict[str, set[str]]:
    """Each module → the package's modules it imports, wherever the import statement is."""
    modules = {module_name(p, package): p for p in sorted(package.rglob("*.py"))}
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text())):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                # `from pkg import mod` imports the module pkg.mod when there is one.
                targets = [
                    f"{node.module}.{alias.name}"
                    if f"{node.module}.{alias.name}" in modules
                    else node.module
                    for alias in node.names
                ]
            graph[name] |= {t for t in targets if t in modules and t != name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_dashboard_has_no_import_cycle() -> None:
    graph = import_graph()
    app = graph["walletflow_dashboard.walletflow_dashboard"]
    assert {"walletflow_dashboard.state", "walletflow_dashboard.pages.overview"} <= app
    assert cycles(graph) == []


def test_the_state_never_imports_the_app_or_a_page() -> None:
    imported = import_graph()["walletflow_dashboard.state"]
    assert not {m for m in imported if m.endswith(".walletflow_dashboard") or ".pages" in m}


def test_a_lazy_import_back_is_a_cycle(tmp_path: Path) -> None:
    package = tmp_path / PACKAGE_NAME
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "app.py").write_text(f"from {PACKAGE_NAME} import state\n")
    (package / "state.py").write_text(
        f"def connected() -> bool:\n    from {PACKAGE_NAME}.app import app\n    return True\n"
    )
    assert cycles(import_graph(package)) == [[f"{PACKAGE_NAME}.app", f"{PACKAGE_NAME}.state"]]
