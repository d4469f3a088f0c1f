"""Which way imports point: read from the source (ast), every import counted, at the top or inside a function.

config at the bottom, imports nothing of ours; the media model on it; the store and the domain (media, ingest,
conform, qc, planning) never import the flows, the CLI or the demo; the flows never import the CLI or the demo;
and no module of ours reaches itself again through its imports. Imports under `if TYPE_CHECKING:` name types
for the checker and run nothing: they are not counted.
"""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES: list[str] = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["hatch"]["build"]["targets"][
    "wheel"]["packages"]
DOMAIN = ("store", "media", "ingest", "conform", "qc", "planning")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for pkg in PACKAGES for p in sorted((ROOT / pkg).rglob("*.py"))}


MODULES = _modules()


def _resolve(name: str) -> str | None:
    """The module of ours that `name` loads (a.b.c may be a module, or a name in module a.b), or None."""
    while name:
        if name in MODULES:
            return name
        name = name.rpartition(".")[0]
    return None


def _imports(module: str) -> set[str]:
    """Our modules that `module` imports, anywhere in its body (TYPE_CHECKING blocks aside)."""
    path = MODULES[module]
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    type_only: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            type_only.update(id(n) for child in node.body for n in ast.walk(child))
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in type_only:
            continue
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join([*parts[: len(parts) - node.level + 1], *([base] if base else [])])
            # `from a import b`: the module a.b where there is one, else a name defined in a.
            names = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base for alias in node.names]
        for name in names:
            target = _resolve(name)
            if target is not None and target != module:
                found.add(target)
    return found


GRAPH = {m: _imports(m) for m in MODULES}


def _top(module: str) -> str:
    return module.partition(".")[0]


def _offences(allowed: dict[str, set[str] | None]) -> list[str]:
    """Imports from a package in `allowed` to a package of ours outside its allowed set (None: any)."""
    bad = []
    for module, targets in GRAPH.items():
        ok = allowed.get(_top(module))
        if ok is None:
            continue
        bad += [f"{module} -> {t}" for t in sorted(targets) if _top(t) not in ok | {_top(module)}]
    return bad


def test_the_graph_sees_imports() -> None:
    # The walk must find what is plainly there, or every test below passes for nothing.
    assert "media.timecode" in GRAPH["media.model"]
    assert any(_top(t) == "flows" for t in GRAPH["cli.commands.qc_run"])
    assert len(MODULES) > 50


def test_config_imports_nothing_of_ours() -> None:
    assert _offences({"config": set()}) == []


def test_media_imports_only_config() -> None:
    assert _offences({"media": {"config"}}) == []


def test_domain_never_imports_flows_cli_or_demo() -> None:
    everything = set(PACKAGES)
    assert _offences({pkg: everything - {"flows", "cli", "demo"} for pkg in DOMAIN}) == []


def test_flows_never_import_cli_or_demo() -> None:
    assert _offences({"flows": set(PACKAGES) - {"cli", "demo"}}) == []


def _cycles() -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), each as a sorted list."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(GRAPH[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(GRAPH):
        if v not in index:
            visit(v)
    return found


def test_no_import_cycles() -> None:
    assert _cycles() == []


def test_no_benchmark_script_shadows_a_package() -> None:
    # `python bench/X.py` puts bench/ first on sys.path: a bench/ingest.py made `import ingest.hashing` fail.
    top_level = {p.name for p in ROOT.iterdir() if (p / "__init__.py").exists()} | set(PACKAGES)
    shadowing = sorted(p.name for p in (ROOT / "bench").glob("*.py") if p.stem in top_level)
    assert not shadowing, f"bench scripts named like a package: {shadowing}"
