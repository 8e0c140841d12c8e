"""The settings reference (``docs/settings.md``), written from the settings' own ``Field``
descriptions so it cannot drift: ``python -m assistant.settings_reference > docs/settings.md``
(``make docs``); ``tests/test_readme.py`` checks the page is current."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Any

from assistant.settings import Settings

HEADER = """# Settings reference

Generated from the settings' descriptions (`assistant/settings.py`, `index/settings.py`) by
`python -m assistant.settings_reference` (`make docs`); a test fails when this page is not current.

Every setting can be given as an environment variable `ASSISTANT_<SECTION>__<NAME>` (for example
`ASSISTANT_ANSWER__ENGINE=local`), in Python as `Settings(answer={"engine": "local"})`, and the
index folder also as `ASSISTANT_INDEX` or `--index DIR`.
"""


def _default(field: Any) -> str:
    if field.default_factory is not None:
        value = field.default_factory()
    else:
        value = field.default
    if isinstance(value, Enum):
        value = value.value
    if isinstance(value, Path):
        value = str(value)
    if value is None or value == "":
        return "–"
    return f"`{value}`"


def settings_reference() -> str:
    """The whole page, Markdown."""
    out = [HEADER]
    for section, holder in Settings.model_fields.items():
        model = holder.annotation
        doc = (model.__doc__ or "").strip().splitlines()[0] if model.__doc__ else ""
        out.append(f"\n## `{section}`\n")
        if doc:
            out.append(f"{doc}\n")
        out.append("| setting | environment variable | default | what it does |")
        out.append("|---|---|---|---|")
        for name, field in model.model_fields.items():
            description = " ".join((field.description or "").split()).replace("|", "\\|")
            env = f"ASSISTANT_{section.upper()}__{name.upper()}"
            out.append(f"| `{section}.{name}` | `{env}` | {_default(field)} | {description} |")
    return "\n".join(out) + "\n"


if __name__ == "__main__":  # pragma: no cover
    print(settings_reference(), end="")
