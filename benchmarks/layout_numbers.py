"""The code's shape in numbers (issue 35): files directly in ``index/`` and ``assistant/answering/``,
the longest product function, test modules importing other test modules, and imports that run
sideways between the adapters (``ui``, ``api``; the launcher ``assistant.cli`` starts both, so it
may import them).

    .venv/bin/python -m benchmarks.layout_numbers
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PRODUCT = ("assistant", "index", "ui", "api", "mcp_adapter", "prompts")
ADAPTERS = ("ui", "api", "mcp_adapter")  # the launcher (assistant.cli) starts them: it may import them


def module_name(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")


def imported(path: Path) -> set[str]:
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
    return out


def adapter_of(module: str) -> str | None:
    return next((a for a in ADAPTERS if module == a or module.startswith(a + ".")), None)


def main() -> None:
    functions = []
    for package in PRODUCT:
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    functions.append((node.end_lineno - node.lineno + 1, f"{module_name(path)}.{node.name}"))
    tests = [
        p.name
        for p in (ROOT / "tests").rglob("test_*.py")
        if any(m.startswith("tests.") and any(part.startswith("test_") for part in m.split(".")) for m in imported(p))
    ]
    sideways = sorted(
        {
            f"{module_name(p)} → {m}"
            for a in ADAPTERS
            for p in (ROOT / a.replace(".", "/")).rglob("*.py")
            for m in imported(p)
            if adapter_of(m) not in (None, adapter_of(module_name(p)))
        }
    )
    print(f"files directly in index/: {len(list((ROOT / 'index').glob('*.py')))}")
    print(f"files directly in assistant/answering/: {len(list((ROOT / 'assistant' / 'answering').glob('*.py')))}")
    longest = max(functions)
    print(f"longest product function: {longest[1]}, {longest[0]} lines")
    print(f"test modules importing other test modules: {len(tests)} {tests}")
    print(f"imports between adapters: {len(sideways)} {sideways}")
    edits = sorted(p.name for p in (ROOT / "benchmarks").glob("*.py") if "sys.path" + ".insert" in p.read_text())
    print(f"benchmark scripts editing sys.path: {len(edits)} {edits}")
    import assistant

    print(f"names in assistant.__all__: {len(assistant.__all__)}")


if __name__ == "__main__":
    main()
