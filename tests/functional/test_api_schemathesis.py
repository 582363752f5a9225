"""Property-based tests of the API against its own /openapi.json (Schemathesis), with all of its
checks: every operation, with a bounded number of generated requests each, valid (the schema
allows them: they must be accepted) and invalid (they must be refused), must answer without a
server error, with a status code, content type, headers and body the schema documents, an
`Allow` header that lists exactly the documented methods, and no access without credentials
where some are needed; then sequences of linked calls (stateful). The one exception is the search
query language's own verdict (tests/functional/schemathesis_hooks.py)."""

from __future__ import annotations

import pytest
import schemathesis
from app_client import open_client
from community import make_member
from conftest import make_record
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import CHECKS, load_all_checks
from schemathesis.specs.openapi.checks import positive_data_acceptance
from schemathesis_hooks import positive_data_accepted_or_query_refused
from sqlalchemy import delete

from paperboy.services import comments, votes
from paperboy.services.api_tokens import create_token
from paperboy.storage.schema import collections, follows, library_imports

PAPERS = ("2506.12229", "2506.12230", "2506.00001")
MAX_EXAMPLES = 25
STATEFUL_STEPS = 20
# Operations with nothing to send but an id any text may spell (404 when unknown) or nothing at
# all: no request to them breaks the schema, so the negative mode has none to make.
UNBREAKABLE = {
    "GET /api/papers/{arxiv_id}",
    "GET /api/v1/papers/{arxiv_id}",
    "GET /api/v1/papers/{arxiv_id}/comments",
    "PUT /api/v1/papers/{arxiv_id}/vote",
    "DELETE /api/v1/papers/{arxiv_id}/vote",
    "GET /api/v1/me",
    "GET /api/v1/me/library",
    "GET /api/v1/me/follows",
    "PUT /api/v1/me/library/{arxiv_id}",
    "DELETE /api/v1/me/library/{arxiv_id}",
    "DELETE /api/v1/me/feedback/{arxiv_id}",
    "GET /api/v1/me/collections",
}
load_all_checks()
# Every check Schemathesis has, a later version's new ones too; positive_data_acceptance as the
# hook module narrows it (the query language's own verdict), registered when it was imported.
CHECKS_RUN = [check for check in CHECKS.get_all() if check is not positive_data_acceptance]
assert positive_data_accepted_or_query_refused in CHECKS_RUN


@pytest.fixture
def api(settings, engine, add_papers):
    """The app over a small catalogue (papers, a vote, a comment thread), with limits out of the way."""
    add_papers(*(make_record(arxiv_id) for arxiv_id in PAPERS))
    member = make_member(engine, "ada")
    votes.upvote_paper(engine, settings, member, PAPERS[0], "127.0.0.1")
    first = comments.post_comment(engine, settings, member, PAPERS[0], "A *fine* result.", None, "127.0.0.1")
    comments.post_comment(engine, settings, member, PAPERS[0], "Agreed.", first.id, "127.0.0.1")
    # Every scope but submit: submitting an unknown paper asks arXiv, which tests never reach.
    token = create_token(engine, member, "schemathesis", ["read", "vote", "comment", "library"]).plaintext
    quiet = settings.replace(
        page_cache_mb=0,
        rate_limit_api="1000000/hour",
        rate_limit_api_ip="1000000/hour",
        rate_limit_vote="1000000/hour",
        rate_limit_comment="1000000/hour",
        rate_limit_library="1000000/hour",
        rate_limit_search="1000000/hour",
        rate_limit_library_import="1000000/hour",
    )
    with open_client(quiet) as client:
        yield schemathesis.openapi.from_asgi("/openapi.json", client.app), token


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_every_operation_conforms_to_the_schema(api, mode):
    """Each operation in turn (schemathesis' pytest plugin does not work with this pytest), with
    a deterministic sequence of generated requests; every failing operation is reported."""
    schema, token = api
    failures: list[str] = []
    unbreakable: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 12
    for operation in operations:
        known = {"arxiv_id": PAPERS[0]} if "{arxiv_id}" in operation.path else None
        try:
            _exercise(operation, token, mode)
            if known:  # generated ids are almost never in the catalogue: once more with a real one
                _exercise(operation, token, mode, known)
        except Unsatisfiable:  # no request breaks its schema (only an id, or nothing, to send)
            if mode is not GenerationMode.NEGATIVE:
                failures.append(f"{operation.label}: no request could be generated")
            unbreakable.append(operation.label)
        except Exception as exc:
            failures.append(f"{operation.label}: {exc}")
    assert not failures, "\n\n".join(failures)
    assert set(unbreakable) <= UNBREAKABLE, unbreakable


def test_linked_calls_conform_to_the_schema(api, engine):
    """Sequences of calls whose answers feed the next request (Schemathesis' stateful phase)."""
    schema, token = api

    class Machine(schema.as_state_machine()):  # type: ignore[misc]
        def get_call_kwargs(self, case):  # type: ignore[no-untyped-def]
            return {"headers": {"Authorization": f"Bearer {token}"}}

        def teardown(self):  # type: ignore[no-untyped-def]
            # Each sequence starts with no collections, follows or library imports (nor imports
            # counted against their limits): a list read by a link must not depend on what earlier
            # sequences made, and POST /api/v1/me/follows answers 200 with created false for a
            # follow an earlier sequence made (Hypothesis replays a sequence and expects the same
            # draws and links).
            with engine.begin() as conn:
                conn.execute(delete(collections))
                conn.execute(delete(follows))
                conn.execute(delete(library_imports))

        def validate_response(self, response, case, additional_checks=None, **kwargs):  # type: ignore[no-untyped-def]
            case.validate_response(response, checks=CHECKS_RUN, transport_kwargs=kwargs)

    Machine.run(
        settings=hypothesis_settings(
            max_examples=MAX_EXAMPLES,
            stateful_step_count=STATEFUL_STEPS,
            derandomize=True,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
    )


def _exercise(
    operation, token: str, mode: GenerationMode, path_parameters: dict[str, str] | None = None
) -> None:
    @given(case=operation.as_strategy(generation_mode=mode, path_parameters=path_parameters))
    @hypothesis_settings(
        max_examples=MAX_EXAMPLES,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case) -> None:
        case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=CHECKS_RUN)

    run()
