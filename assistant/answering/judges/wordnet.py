"""Synonyms and antonyms from the WordNet 3.0 database files (Debian ``wordnet-base``), read
directly: no NLTK data download. Optional: without the files every lookup says "unknown".

Only what the faithfulness judge needs: the base forms of a word, whether two words share a
sense or neighbouring senses (synonym, hypernym/hyponym, similar-to, derivation), and whether
they are antonyms.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

WORDNET_DIR = Path(os.environ.get("ASSISTANT_WORDNET_DIR", "/usr/share/wordnet"))
_POS = ("noun", "verb", "adj", "adv")
_NEAR = {"@", "~", "@i", "~i", "&", "+", "^", "=", "$"}  # hypernym, hyponym, similar, derived, also-see...
_SUFFIXES = (
    ("ies", "y"), ("ves", "f"), ("es", ""), ("s", ""), ("ing", ""), ("ing", "e"), ("ed", ""), ("ed", "e"),
    ("er", ""), ("er", "e"), ("est", ""), ("est", "e"), ("ied", "y"),
)  # fmt: skip


class WordNet:
    """Word senses and their relations, loaded once from ``directory``."""

    def __init__(self, directory: Path = WORDNET_DIR) -> None:
        self.senses: dict[str, set[str]] = {}  # lemma -> synset keys
        self.words: dict[str, list[str]] = {}  # synset key -> lemmas
        self.near: dict[str, set[str]] = {}  # synset key -> related synset keys
        self.antonym_pairs: set[tuple[str, str]] = set()
        self.exceptions: dict[str, set[str]] = {}
        self._key_cache: dict[str, frozenset[str]] = {}
        for pos in _POS:
            self._read_data(directory / f"data.{pos}")
            exc = directory / f"{pos}.exc"
            if exc.is_file():
                for line in exc.read_text(encoding="latin-1").splitlines():
                    parts = line.split()
                    if len(parts) >= 2:
                        self.exceptions.setdefault(parts[0], set()).update(parts[1:])

    def _read_data(self, path: Path) -> None:
        with path.open(encoding="latin-1") as f:
            for line in f:
                if line.startswith("  "):  # licence header
                    continue
                fields = line.split(" | ", 1)[0].split()
                offset, ss_type = fields[0], fields[2]
                key = f"{'a' if ss_type == 's' else ss_type}{offset}"
                count = int(fields[3], 16)
                lemmas = [fields[4 + 2 * i].lower().split("(")[0] for i in range(count)]
                self.words[key] = lemmas
                for lemma in lemmas:
                    self.senses.setdefault(lemma, set()).add(key)
                at = 4 + 2 * count
                pointers = int(fields[at])
                near = self.near.setdefault(key, set())
                for i in range(pointers):
                    symbol, target, pos, _ = fields[at + 1 + 4 * i : at + 5 + 4 * i]
                    target_key = f"{'a' if pos == 's' else pos}{target}"
                    if symbol == "!":
                        self.antonym_pairs.add((key, target_key))
                    elif symbol in _NEAR:
                        near.add(target_key)

    def lemmas(self, word: str) -> set[str]:
        """Base forms of ``word`` that WordNet knows (``fell`` -> fall, fell; ``cities`` -> city)."""
        word = word.lower()
        found = {word} if word in self.senses else set()
        found |= {w for w in self.exceptions.get(word, ()) if w in self.senses}
        for suffix, repl in _SUFFIXES:
            if word.endswith(suffix) and len(word) > len(suffix) + 2:
                base = word[: -len(suffix)] + repl
                if base in self.senses:
                    found.add(base)
        return found

    def _keys(self, word: str) -> frozenset[str]:
        keys = self._key_cache.get(word)
        if keys is None:
            keys = self._key_cache[word] = frozenset(k for lemma in self.lemmas(word) for k in self.senses[lemma])
        return keys

    def known(self, word: str) -> bool:
        return bool(self.lemmas(word))

    def related(self, a: str, b: str) -> bool:
        """True when the words share a sense, or a sense of one is next to a sense of the other."""
        ka, kb = self._keys(a), self._keys(b)
        if not ka or not kb:
            return False
        if ka & kb:
            return True
        return any(self.near.get(k, set()) & kb for k in ka) or any(self.near.get(k, set()) & ka for k in kb)

    def antonyms(self, a: str, b: str) -> bool:
        """True when a sense of one word is marked the opposite of a sense of the other (or of its
        similar-to neighbours, so ``tiny`` is opposite ``large`` as ``small`` is)."""
        ka, kb = self._keys(a), self._keys(b)
        if not ka or not kb:
            return False
        ka_wide = ka | {n for k in ka if k.startswith("a") for n in self.near.get(k, set())}
        kb_wide = kb | {n for k in kb if k.startswith("a") for n in self.near.get(k, set())}
        return any((x, y) in self.antonym_pairs for x in ka_wide for y in kb_wide)


@cache
def wordnet() -> WordNet | None:
    """The WordNet database, or None when its files are not installed."""
    if not (WORDNET_DIR / "data.noun").is_file():
        return None
    return WordNet(WORDNET_DIR)
