"""Where a digest run finds its vectors (services/digest_vectors.py): the index the app shares
when `serve` runs the schedule in its process, else one of its own, made once and kept."""

from paperboy.services.digest_vectors import ProcessVectors, share_vector_index, unshare_vector_index
from paperboy.services.vector_index import VectorIndex


def test_the_apps_index_is_used_when_shared_else_one_kept_for_every_run(engine, settings) -> None:  # type: ignore[no-untyped-def]
    vectors = ProcessVectors(engine, settings)
    own = vectors()
    assert isinstance(own, VectorIndex)
    assert vectors() is own  # never a second copy
    apps = VectorIndex(engine, own.model)
    share_vector_index(lambda: apps)
    try:
        assert vectors() is apps
        assert ProcessVectors(engine, settings)() is apps
    finally:
        unshare_vector_index()
    assert vectors() is own
    vectors.close()
