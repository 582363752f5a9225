"""English stop words: PostgreSQL's `english` configuration's list (Snowball's), which it never
indexes. The lexical index leaves them out of a query that has other words (storage/lexical.py),
the keyword index never indexes them (storage/keyword_index.py), and highlighting does not mark
them unless they are all a query has (domain/highlight.py)."""

from __future__ import annotations

_STOP_WORDS_TEXT = (
    "i me my myself we our ours ourselves you your yours yourself yourselves he him his himself she "
    "her hers herself it its itself they them their theirs themselves what which who whom this that "
    "these those am is are was were be been being have has had having do does did doing a an the and "
    "but if or because as until while of at by for with about against between into through during "
    "before after above below to from up down in out on off over under again further then once here "
    "there when where why how all any both each few more most other some such no nor not only own "
    "same so than too very s t can will just don should now"
)
STOP_WORDS = frozenset(_STOP_WORDS_TEXT.split())
