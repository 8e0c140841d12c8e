"""Prompt templates as versioned text files shipped in the wheel, read with importlib.resources.

File names are ``<name>.v<version>.txt``; :func:`load_prompt` returns the newest version unless one
is asked for, and the version goes into answers and evaluation reports.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources

_NAME = re.compile(r"^(?P<name>[a-z_]+)\.v(?P<version>\d+)\.txt$")


@dataclass(frozen=True)
class Prompt:
    name: str
    version: int
    text: str

    @property
    def id(self) -> str:
        return f"{self.name}.v{self.version}"

    def messages(self, **values: str) -> list[tuple[str, str]]:
        """(role, text) chat messages: the part before a ``=== user ===`` line is the system
        message (fixed instructions first, so a server's prompt cache can reuse them), the rest the
        user message. ``values`` fill the ``{name}`` fields of both."""
        system, sep, user = self.text.partition("=== user ===\n")
        parts = [("system", system), ("user", user)] if sep else [("user", system)]
        return [(role, text.format(**values).strip()) for role, text in parts]


def available() -> dict[str, list[int]]:
    found: dict[str, list[int]] = {}
    for entry in resources.files(__package__).iterdir():
        m = _NAME.match(entry.name)
        if m:
            found.setdefault(m["name"], []).append(int(m["version"]))
    return {name: sorted(versions) for name, versions in found.items()}


def load_prompt(name: str, version: int | None = None) -> Prompt:
    versions = available().get(name)
    if not versions or (version is not None and version not in versions):
        raise KeyError(f"no prompt {name!r} version {version}; available: {available()}")
    chosen = version if version is not None else versions[-1]
    text = (resources.files(__package__) / f"{name}.v{chosen}.txt").read_text(encoding="utf-8")
    return Prompt(name, chosen, text)
