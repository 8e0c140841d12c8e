"""Import gradio without regenerating its type stubs.

Every ``import gradio`` (6.x) rewrites the ``.pyi`` stub of each component class it defines
(``gradio.component_meta.create_or_modify_pyi``: reads, parses and re-parses each component's
source file): 40–60 % of the import on the 2-core machine (5.7–6.1 s → 2.4–3.6 s, same runs). The
stubs serve editors' type hints only, so the UI skips that step: a finder on ``sys.meta_path``
replaces the function as soon as ``gradio.component_meta`` has run, before any component class is
created. Nothing else in gradio changes; with a gradio without that function this does nothing.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import sys
from collections.abc import Sequence
from types import ModuleType
from typing import Any

STUB_WRITER = "create_or_modify_pyi"


class _SkipStubs(importlib.abc.MetaPathFinder):
    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != "gradio.component_meta":
            return None
        sys.meta_path.remove(self)  # the other finders locate the real module
        spec = importlib.util.find_spec(fullname)
        if spec is None or spec.loader is None:
            return spec
        run = spec.loader.exec_module

        def exec_module(module: ModuleType) -> None:
            run(module)
            if hasattr(module, STUB_WRITER):
                setattr(module, STUB_WRITER, _no_stubs)

        spec.loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


def _no_stubs(*args: Any, **kwargs: Any) -> None:
    return None


def import_gradio() -> ModuleType:
    """``gradio``, imported (the first time) without its stub writing."""
    if "gradio" not in sys.modules and not any(isinstance(f, _SkipStubs) for f in sys.meta_path):
        sys.meta_path.insert(0, _SkipStubs())
    try:
        import gradio
    except ImportError as e:  # pragma: no cover
        raise ImportError("the web UI needs gradio: pip install 'gradio>=6'") from e
    return gradio
