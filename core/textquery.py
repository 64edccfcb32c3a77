"""The search box's query language, one meaning on both databases.

    water rights          both words (anywhere in the article)
    "water rights"        the phrase
    water OR river        either
    -dam                  not this word (or -"a phrase")
    negot*                a word starting with "negot"

It is parsed once into :class:`TextQuery` and rendered for SQLite FTS5
(:meth:`TextQuery.fts5`) and PostgreSQL ``to_tsquery`` (:meth:`TextQuery.tsquery`). Words are
reduced to letters and digits before they reach either engine, so no user input is ever
interpreted as the engine's own syntax (FTS5's ``NEAR``/column filters, tsquery operators).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

TOKEN_RE = re.compile(r'(-?)"([^"]*)"?|(\S+)')
WORD_RE = re.compile(r"\w+")


class TextQueryError(ValueError):
    pass


@dataclass(frozen=True)
class Term:
    words: tuple[str, ...]  # one word, or a phrase
    prefix: bool = False  # the last word is a prefix

    def fts5(self) -> str:
        quoted = '"' + " ".join(self.words) + '"'
        return quoted + ("*" if self.prefix else "")

    def tsquery(self) -> str:
        lexemes = [f"'{w}'" for w in self.words]
        if self.prefix:
            lexemes[-1] += ":*"
        return lexemes[0] if len(lexemes) == 1 else "(" + " <-> ".join(lexemes) + ")"


@dataclass
class TextQuery:
    groups: list[list[Term]] = field(default_factory=list)  # AND of ORs
    excluded: list[Term] = field(default_factory=list)

    @classmethod
    def parse(cls, text: str) -> TextQuery:
        q = cls()
        join_next = False
        for m in TOKEN_RE.finditer(text):
            negated, phrase, bare = m.group(1) == "-", m.group(2), m.group(3)
            if bare is not None:
                if bare == "OR":
                    join_next = bool(q.groups)
                    continue
                negated = bare.startswith("-") and len(bare) > 1
                raw = bare[1:] if negated else bare
            else:
                raw = phrase or ""
            words = tuple(w.lower() for w in WORD_RE.findall(raw))
            if not words:
                continue
            term = Term(words, prefix=bare is not None and raw.endswith("*"))
            if negated:
                q.excluded.append(term)
                join_next = False
            elif join_next:
                q.groups[-1].append(term)
                join_next = False
            else:
                q.groups.append([term])
        if q.excluded and not q.groups:
            raise TextQueryError("a search needs at least one word to look for, not only -words")
        return q

    def __bool__(self) -> bool:
        return bool(self.groups)

    def fts5(self) -> str:
        """FTS5 MATCH syntax: ``("a" OR "b") AND "c d" NOT "e"``."""
        parts = [
            "(" + " OR ".join(t.fts5() for t in group) + ")" if len(group) > 1 else group[0].fts5()
            for group in self.groups
        ]
        out = " AND ".join(parts)
        for term in self.excluded:
            out += " NOT " + term.fts5()
        return out

    def tsquery(self) -> str:
        """PostgreSQL ``to_tsquery`` syntax: ``('a' | 'b') & ('c' <-> 'd') & !'e'``."""
        parts = [
            "(" + " | ".join(t.tsquery() for t in group) + ")"
            if len(group) > 1
            else group[0].tsquery()
            for group in self.groups
        ]
        parts += ["!" + t.tsquery() for t in self.excluded]
        return " & ".join(parts)
