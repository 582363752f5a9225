"""Where a digest member's CPU goes: `python -m bench.digest_split [--members N]`.

Builds the digest benchmark's database (bench/digest.py's template: the real corpus, N members
drawn as bench/digest_members.py draws them, each the owner of one subscription) and runs, in
this process and without SMTP or the send log, what a sending run does for each subscriber:
`PersonalDigests.pick` (the member's "For you" ranking, made 256 members at a time, and the
selection), the mail's links, and the rendered envelope. Prints the CPU time of each part per
member (time.process_time, one thread), and the edition's set-up (its content, the vectors).
"""

from __future__ import annotations

import argparse
import shutil
import time
from collections.abc import Sequence
from datetime import UTC, datetime

from bench.common import find_corpus
from bench.digest import CACHE, DB_NAME, build_template, corpus_database

MEMBERS = 3000


def split(members: int) -> dict[str, float]:
    """CPU seconds per member of each part, over `members` members."""
    from paperboy.config import load_settings
    from paperboy.domain.trending import trending_params
    from paperboy.services.digest_mail import DigestRenderer
    from paperboy.services.digest_personal import PersonalDigests, ready_index
    from paperboy.services.digest_vectors import ProcessVectors
    from paperboy.services.digests import edition_content
    from paperboy.services.subscriptions import DigestLinks
    from paperboy.storage import digests as store
    from paperboy.storage.engine import make_engine

    work = CACHE / "split"
    template = build_template(corpus_database(find_corpus()), work, members, members)
    environ = {"PAPERBOY_DATA_DIR": str(work), "PAPERBOY_EMBEDDER": "minilm"}
    settings = load_settings(environ, toml_path=work / "absent.toml")
    engine = make_engine(f"sqlite:///{work / DB_NAME}")
    try:
        now, started = datetime.now(UTC), time.process_time()
        content = edition_content(engine, settings, template.edition, now)
        with engine.connect() as conn:
            waiting = store.subscribers_waiting(conn, template.edition)
        vectors = ProcessVectors(engine, settings)
        personal = PersonalDigests(engine, content, ready_index(vectors), trending_params(settings), now)
        parts = {"edition set-up (once)": time.process_time() - started, "pick": 0.0, "links": 0.0}
        parts["render"] = 0.0
        personal.expect(waiting)
        renderer, links = DigestRenderer(settings), DigestLinks(engine, settings)
        for subscription in waiting:
            moments = [time.process_time()]
            mail = personal.pick(subscription, set())
            moments.append(time.process_time())
            mail_links = links.mail_links(subscription)
            moments.append(time.process_time())
            if mail.papers:
                renderer.envelope(
                    template.edition, subscription, mail.papers, mail_links, now, [], mail.section
                )
            moments.append(time.process_time())
            for name, start, end in zip(("pick", "links", "render"), moments, moments[1:], strict=False):
                parts[name] += end - start
        vectors.close()
    finally:
        engine.dispose()
        shutil.rmtree(work, ignore_errors=True)
    return {name: seconds if "once" in name else seconds / members for name, seconds in parts.items()}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.digest_split", description=__doc__.split("\n")[0])
    parser.add_argument("--members", type=int, default=MEMBERS, help="members (each a subscriber)")
    args = parser.parse_args(argv)
    for name, seconds in split(args.members).items():
        unit = f"{seconds:.2f} s" if "once" in name else f"{1000 * seconds:.2f} ms a member"
        print(f"  {name}: {unit}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
