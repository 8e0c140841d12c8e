"""The code's shape, checked: no import circles inside ``index/`` and ``assistant/answering/``,
protocol owners that never import their implementations, the adapters' imports, and module sizes."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("index", "assistant", "ui", "api", "mcp_adapter", "serving")
MAX_LINES = 400  # a product module longer than this does more than one job: split it


def modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            found[".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")] = path
    return found


def imports(path: Path, known: dict[str, Path], top_level_only: bool = False) -> set[str]:
    """The project modules ``path`` imports (``from a import b`` counts ``a.b`` when it is a module)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    out = set()
    for node in nodes:
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module)
            out.update(f"{node.module}.{a.name}" for a in node.names if f"{node.module}.{a.name}" in known)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
    return {m for m in out if m in known}


def cycles(prefix: str) -> list[list[str]]:
    known = modules()
    graph = {m: {d for d in imports(p, known) if d.startswith(prefix) and d != m} for m, p in known.items()}
    graph = {m: deps for m, deps in graph.items() if m.startswith(prefix)}
    found: list[list[str]] = []

    def walk(module: str, path: list[str], done: set[str]) -> None:
        for dep in sorted(graph[module]):
            if dep in path:
                found.append([*path[path.index(dep) :], dep])
            elif dep not in done:
                done.add(dep)
                walk(dep, [*path, dep], done)

    for module in graph:
        walk(module, [module], {module})
    return found


def test_no_import_circles_in_index_or_answering() -> None:
    assert cycles("index") == []
    assert cycles("assistant.answering") == []


def test_protocol_owners_never_import_their_implementations() -> None:
    known = modules()
    implementations = {"index.backends.faiss_backend", "index.backends.milvus_backend", "index.store"}
    assert not imports(known["index.backends.backend"], known) & implementations
    engines = {"assistant.answering.engines.extractive", "assistant.answering.engines.llm"}
    assert not imports(known["assistant.answering.engines.base"], known) & engines


# what adapters may import besides the facade (``assistant``): the public module of each wing
PUBLIC = (
    "assistant.settings",
    "assistant.conversations",
    "assistant.evaluation",
    "assistant.samples_index",
    "assistant.checks",
    "assistant.web_sources",
    "assistant.wording",
)


def test_the_layers_hold() -> None:
    """The layers, as contracts:

    - the adapters (the web UI, the HTTP API) use the facade's names (``assistant``, the vocabulary
      of :class:`~assistant.Assistant`: its answers, events, settings, errors), the public module of
      each wing (:data:`PUBLIC`) and ``serving`` (what both servers share); never the index, the
      answering internals, nor each other;
    - the launcher (``assistant.cli``) may import the adapters too: ``assistant serve`` and
      ``assistant api`` start them;
    - ``serving`` uses the facade's names only (its error for a missing key)."""
    known = modules()
    adapters = ("ui", "api", "mcp_adapter")
    for module, path in known.items():
        found = {m for m in imports(path, known) if m != "assistant" and not m.startswith(PUBLIC)}
        if module.startswith(adapters):
            own = module.split(".")[0]
            inner = {m for m in found if not m.startswith((own, "serving"))}
            assert not inner, (module, inner)
        elif module.startswith("assistant.cli"):
            inner = {m for m in found if not m.startswith(("assistant.cli", *adapters))}
            assert not inner, (module, inner)
        elif module.startswith("serving"):
            assert not {m for m in imports(path, known) if m != "assistant" and not m.startswith("serving")}, module


def test_the_facade_names_its_vocabulary_only() -> None:
    """``assistant.__all__`` is the facade's vocabulary (82 names before: everything adapters used)."""
    import assistant

    assert len(assistant.__all__) <= 55, len(assistant.__all__)  # 48, and the time answers' four
    assert "evaluate" not in assistant.__all__ and "IndexSettings" not in assistant.__all__


def test_the_core_never_reaches_an_adapter() -> None:
    known = modules()
    for module, path in known.items():
        if module.startswith(("index", "assistant")) and not module.startswith("assistant.cli"):
            reached = {
                m
                for m in imports(path, known)
                if m.startswith(("ui", "api", "mcp_adapter", "serving", "assistant.cli"))
            }
            assert not reached, (module, reached)


def test_no_product_module_grows_past_400_lines() -> None:
    for path in modules().values():
        name = str(path.relative_to(ROOT))
        lines = len(path.read_text(encoding="utf-8").splitlines())
        assert lines <= MAX_LINES, f"{name} has {lines} lines: split it by job"


def test_the_index_is_a_few_named_wings() -> None:
    """``index/`` keeps the store, its docstore, generations and the ingest at its top and groups the
    rest into sub-packages that name their jobs (36 flat files before)."""
    top = sorted(p.name for p in (ROOT / "index").glob("*.py"))
    assert len(top) <= 12, top
    wings = sorted(p.parent.name for p in (ROOT / "index").glob("*/__init__.py"))
    assert wings == ["backends", "disk", "embedding", "language", "reading", "web"]


def test_answering_is_engines_and_judges() -> None:
    """``assistant/answering/`` keeps the answer, citations, pipeline, rewrite and the spaCy loader at
    its top; engines, judges and stories (what a question asks about time) are its wings (19 flat
    files before)."""
    top = sorted(p.name for p in (ROOT / "assistant" / "answering").glob("*.py"))
    assert len(top) <= 10, top
    wings = sorted(p.parent.name for p in (ROOT / "assistant" / "answering").glob("*/__init__.py"))
    assert wings == ["engines", "judges", "stories"]


def test_no_test_module_imports_another() -> None:
    """What tests share lives in ``tests/helpers/`` (and fixtures in ``conftest.py``)."""
    for path in (ROOT / "tests").rglob("test_*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):  # (a subprocess script's text naming its module is a string, not an import)
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("tests.test_"):
                raise AssertionError(f"{path.name} imports {node.module}")


def test_no_product_function_is_over_100_lines() -> None:
    """A function longer than this does more than one job (the Chat tab's was 257 lines); ruff's
    C901 and PLR0915 (pyproject.toml) bound complexity and statements too."""
    for module, path in modules().items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = node.end_lineno - node.lineno + 1  # type: ignore[operator]
                assert length <= 100, f"{module}.{node.name} has {length} lines"


def test_benchmarks_are_a_package_without_path_edits() -> None:
    """``python -m benchmarks.<name>`` from the repository root; no script edits ``sys.path`` (15 did)."""
    assert (ROOT / "benchmarks" / "__init__.py").is_file()
    edits = [p.name for p in (ROOT / "benchmarks").glob("*.py") if "sys.path.insert" in p.read_text(encoding="utf-8")]
    assert not edits, edits
