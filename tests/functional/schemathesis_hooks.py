"""Schemathesis' checks as paperboy's API is held to them, for the test and for the command line:

    SCHEMATHESIS_HOOKS=schemathesis_hooks PYTHONPATH=tests/functional schemathesis run \\
        http://127.0.0.1:8000/openapi.json --phases coverage,fuzzing,stateful \\
        --checks all --exclude-checks positive_data_acceptance -H 'Authorization: Bearer <token>'

Every check runs as Schemathesis writes it but one: a schema-valid request may still be refused
with 422 `invalid_query` (the X-Error-Code header), because the search query language decides
which texts it can run (an unclosed quote, only exclusions, an empty query), and no OpenAPI
schema can state a language; likewise 422 `invalid_follow` (POST /api/v1/me/follows): whether
a category is one this catalogue has papers in, a saved search one the language can run, a text
an arXiv id, is the catalogue's and the parsers' to say; and 422 `unreadable_import`, because what
a library import's file holds (BibTeX, RIS, CSL JSON…) is a format no OpenAPI schema can state
either. Any other refusal of a schema-valid request still fails.
"""

from __future__ import annotations

import schemathesis
from schemathesis.specs.openapi.checks import positive_data_acceptance

QUERY_LANGUAGE_VERDICT = "invalid_query"
FOLLOW_VERDICT = "invalid_follow"
FILE_FORMAT_VERDICT = "unreadable_import"


@schemathesis.check
def positive_data_accepted_or_query_refused(ctx, response, case):  # type: ignore[no-untyped-def]
    """positive_data_acceptance, except for the query language's own verdict on `q` and the
    import's on a file's content."""
    codes = response.headers.get("x-error-code", [])
    verdicts = (QUERY_LANGUAGE_VERDICT, FOLLOW_VERDICT, FILE_FORMAT_VERDICT)
    if response.status_code == 422 and any(verdict in codes for verdict in verdicts):
        return None
    return positive_data_acceptance(ctx, response, case)
