"""Digests for members: the "For you" order (a preference only a subscription of an account may
have) and the personal "For you" section, mailed through a real SMTP server (aiosmtpd on
127.0.0.1); the private feed in the For you order. The model itself: tests/unit/services/
test_recommend.py; trending digests: test_digest_sending.py."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from datetime import timedelta

import feedparser
import pytest
from app_client import open_client
from community import log_in_as, make_member
from digest_fixtures import (
    DAY,
    TOPICS,
    add_subscribers,
    add_upvotes,
    catalogue_records,
    expected_papers,
    papers_in,
    trending_order,
)
from mail_sink import SmtpSink, running_smtp_sink
from sqlalchemy import select

from paperboy.domain.digest import InvalidPreferences, Preferences, check_preferences, daily_edition
from paperboy.domain.models import Listing
from paperboy.services import digest_processes
from paperboy.services.api_tokens import create_token
from paperboy.services.digests import send_edition
from paperboy.services.library import save_paper
from paperboy.services.subscriptions import DigestLinks, subscribe_member
from paperboy.storage import digests as store
from paperboy.storage.schema import papers, seen_papers

IP = "192.0.2.9"
NEXT_DAY = DAY + timedelta(days=1)  # a Friday: every paper is listed again (a new version)
SAVED = ("2505.10005",)  # listed the day before: about proteins
SECTION_TITLE = "For you, also in this edition"


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    with running_smtp_sink() as sink:
        yield sink


# Each topic its own words, so that what relates papers is what they are about. Words in more
# than a tenth of a day's papers weigh nothing (domain/term_vectors.py, as arxiv-sanity's max_df):
# half the protein papers are about galaxies instead, so that protein's words are in 4 of 48.
VOCABULARY = {
    "diffusion": "denoising score matching for image synthesis samplers",
    "graph": "message passing and node embeddings on molecular graphs",
    "language model": "transformer pretraining on large text corpora and tokens",
    "reinforcement": "reward shaping, policy gradients and agent exploration",
    "robot": "grasping and manipulation with a gripper arm controller",
    "protein": "protein folding from amino acid residue contacts and structure",
    "galaxy": "galaxy clusters, dark matter halos and redshift surveys",
}


def _about_its_topic(record, authors=None):
    i = int(record.arxiv_id[-2:])
    topic = TOPICS[i % len(TOPICS)] if i % 12 != 11 else "galaxy"
    words = VOCABULARY[topic]
    return dataclasses.replace(
        record,
        title=f"{topic.capitalize()} study {i}: {words.split(' and ')[0]}",
        abstract=f"We study {words} in setting {i}.",
        authors=authors or record.authors,
    )


@pytest.fixture
def catalogue(add_papers, engine):
    listed_twice = [
        dataclasses.replace(
            _about_its_topic(record), listings=(Listing(DAY, "new"), Listing(NEXT_DAY, "replace"))
        )
        for record in catalogue_records(48)
    ]
    library = [  # by other authors: what relates them to the edition is their text
        _about_its_topic(record, ("Rosalind Franklin",))
        for record in catalogue_records(12, day=DAY - timedelta(days=1), prefix="2505")
    ]
    add_papers(*listed_twice, *library)
    add_upvotes(engine)


def _member(engine, settings, name: str, preferences: Preferences):
    member = make_member(engine, name)
    subscribe_member(engine, member, preferences)
    for arxiv_id in SAVED:
        save_paper(engine, settings, member, arxiv_id, IP, save=True)
    return member


def _titles(engine) -> dict[str, str]:
    with engine.connect() as conn:
        return {row.arxiv_id: row.title for row in conn.execute(select(papers.c.arxiv_id, papers.c.title))}


def _text(message) -> str:
    return message.get_body(("plain",)).get_content()


def _html(message) -> str:
    return message.get_body(("html",)).get_content()


def _split(message, main: int) -> tuple[list[str], list[str]]:
    """(the main list, the For you section) as the plain-text part lists them."""
    ids = papers_in(message)
    text = _text(message)
    if SECTION_TITLE in text:
        assert papers_in_text(text.split(SECTION_TITLE, 1)[1]) == ids[main:]
    return ids[:main], ids[main:]


def papers_in_text(text: str) -> list[str]:
    return list(dict.fromkeys(re.findall(r"/papers/([0-9]{4}\.[0-9]{4,5})\b", text)))


def test_a_member_with_saves_gets_a_section_of_related_papers_never_repeated(
    settings, engine, catalogue, smtp
):
    preferences = Preferences(top_n=3, only_new=False)  # the section never repeats all the same
    ada = _member(engine, settings, "ada", preferences)
    add_subscribers(engine, 1, make=lambda rng: Preferences(top_n=3))  # anonymous: no section
    mail_settings = smtp.settings_for(settings)
    titles = _titles(engine)

    report = send_edition(engine, mail_settings, daily_edition(DAY))
    assert report.sent == 2
    mails = {m["To"]: m for m in smtp.messages}
    anonymous = mails["reader0@example.org"]
    assert SECTION_TITLE not in _text(anonymous)
    assert SECTION_TITLE not in _html(anonymous)
    assert papers_in(anonymous) == expected_papers(trending_order(engine), Preferences(top_n=3))

    mail = mails["ada@example.org"]
    main, section = _split(mail, 3)
    assert main == expected_papers(trending_order(engine), preferences)  # trending: the default
    assert len(section) == 3
    assert not set(section) & set(main)
    assert all("Protein" in titles[arxiv_id] for arxiv_id in section), _text(mail)
    text, html = _text(mail), _html(mail)
    assert len(re.findall(r"Why: [a-z ]+ Protein study 5: protein folding", text)) == 3
    assert SECTION_TITLE in html
    assert len(re.findall(r"Why: [a-z ]+ Protein study 5: protein folding", html)) == 3
    assert all(f"/papers/{arxiv_id}" in html.split(SECTION_TITLE, 1)[1] for arxiv_id in section)
    with engine.connect() as conn:
        subscription = store.subscription_by_user(conn, ada.id)
        mailed = store.mailed_among(conn, list(_ids_of(conn, main + section)), [subscription.id])
        seen = set(
            conn.execute(select(seen_papers.c.paper_id).where(seen_papers.c.user_id == ada.id)).scalars()
        )
    assert len(mailed[subscription.id]) == 6  # the section's papers are mailed papers too
    assert seen == mailed[subscription.id]  # and count as seen

    smtp.messages.clear()
    send_edition(engine, mail_settings, daily_edition(NEXT_DAY))  # the same papers, listed again
    again = {m["To"]: m for m in smtp.messages}["ada@example.org"]
    main_again, section_again = _split(again, 3)
    assert main_again == main  # "only new" is off: the main list may repeat
    assert len(section_again) == 3
    assert not set(section_again) & (set(main) | set(section))  # the section never does


@pytest.mark.parametrize("processes", [1, 2])
def test_members_of_one_run_each_get_a_section_from_their_own_library(
    settings, engine, catalogue, smtp, processes, monkeypatch
):
    """A run ranks its members together (services/recommend_many.py): each still gets their own,
    also when the run is dealt into shares sent from processes of their own (the edition is small:
    one subscriber a process is allowed, so that the shares are made here)."""
    monkeypatch.setattr(digest_processes, "SUBSCRIBERS_PER_PROCESS", 1)
    settings = settings.replace(digest_processes=processes)
    saves = {"ada": "2505.10005", "bob": "2505.10011", "cy": "2505.10005"}  # protein, galaxy, protein
    for name, arxiv_id in saves.items():
        member = make_member(engine, name)
        subscribe_member(engine, member, Preferences(top_n=2, only_new=False))
        save_paper(engine, settings, member, arxiv_id, IP, save=True)
    add_subscribers(engine, 2, make=lambda rng: Preferences(top_n=2))  # anonymous, between them
    titles = _titles(engine)
    report = send_edition(engine, smtp.settings_for(settings), daily_edition(DAY))
    assert (report.sent, report.processes) == (5, processes)
    mails = {m["To"]: m for m in smtp.messages}
    assert len(mails) == len(smtp.messages) == 5
    topic = {"ada": "Protein", "bob": "Galaxy", "cy": "Protein"}
    for name in saves:
        _, section = _split(mails[f"{name}@example.org"], 2)
        assert len(section) == 3
        assert all(topic[name] in titles[arxiv_id] for arxiv_id in section), (name, section)
    assert SECTION_TITLE not in _text(mails["reader0@example.org"])


def _ids_of(conn, arxiv_ids):
    return conn.execute(select(papers.c.id).where(papers.c.arxiv_id.in_(arxiv_ids))).scalars()


def test_the_for_you_mode_orders_the_main_list_by_the_members_relevance(settings, engine, catalogue, smtp):
    preferences = Preferences(top_n=4, exclude=("graph",), for_you=True)
    _member(engine, settings, "ada", preferences)
    titles = _titles(engine)
    send_edition(engine, smtp.settings_for(settings), daily_edition(DAY))
    (mail,) = smtp.messages
    main, section = _split(mail, 4)
    trending = expected_papers(trending_order(engine), preferences)
    assert main != trending
    assert all("Protein" in titles[arxiv_id] for arxiv_id in main), [titles[i] for i in main]
    assert not any("Graph" in titles[arxiv_id] for arxiv_id in main + section)  # filters still apply
    assert not set(section) & set(main)
    assert mail["Subject"].startswith("paperboy: 4 papers for you, ")
    assert "top 4 papers in your For you order" in _text(mail)


def test_only_a_subscription_of_an_account_can_choose_for_you(settings, engine, catalogue):
    with pytest.raises(InvalidPreferences, match="belongs to an account"):
        check_preferences(
            frequency="daily", weekday=0, top_n=5, categories="", include="", exclude="",
            only_new=True, for_you=True, member=False,
        )  # fmt: skip
    (subscription_id,) = add_subscribers(engine, 1, make=lambda rng: Preferences()).values()
    with engine.connect() as conn:
        subscription = store.subscription_by_id(conn, subscription_id)
    token = DigestLinks(engine, settings).token(subscription)
    form = {"token": token, "frequency": "daily", "weekday": "0", "top_n": "5", "only_new": "on"}
    with open_client(settings) as client:
        page = client.get("/digest/manage", params={"token": token}).text
        assert 'value="for_you"' not in page
        assert "Only a digest that belongs to an account" in page
        refused = client.post("/digest/manage", data={**form, "ranking": "for_you"})
        assert refused.status_code == 400
        assert "Only a digest that belongs to an account" in refused.text
        nul = client.post("/digest/manage", data={**form, "ranking": "for_you\x00"})
        assert nul.status_code == 400  # refused before the form (web/request_guard.py)
        for hostile in ("FOR_YOU", "for_you ", "<script>", "x" * 5000):
            bad = client.post("/digest/manage", data={**form, "ranking": hostile})
            assert bad.status_code == 400, hostile
            assert "Choose the order of your digest" in bad.text
            assert "<script>" not in bad.text
        assert client.post("/digest/manage", data={**form, "ranking": "trending"}).status_code == 303
    with engine.connect() as conn:
        assert store.subscription_by_id(conn, subscription_id).preferences.for_you is False


def test_a_member_chooses_for_you_in_settings(settings, engine, catalogue):
    ada = make_member(engine, "ada")
    form = {"frequency": "daily", "weekday": "0", "top_n": "5", "ranking": "for_you"}
    with open_client(settings) as client:
        csrf = log_in_as(client, ada)
        page = client.get("/settings").text
        assert 'name="ranking" value="for_you"' in page
        bad = client.post("/settings/digest", data={**form, "csrf_token": csrf, "ranking": "best"})
        assert bad.status_code == 400
        assert "Choose the order of your digest" in bad.text
        saved = client.post("/settings/digest", data={**form, "csrf_token": csrf})
        assert saved.status_code == 303
        assert "in your For you order" in client.get("/settings").text
    with engine.connect() as conn:
        assert store.subscription_by_user(conn, ada.id).preferences.for_you is True


def test_the_private_feed_carries_the_for_you_order(settings, engine, catalogue):
    preferences = Preferences(top_n=5, for_you=True)
    ada = _member(engine, settings, "ada", preferences)
    token = create_token(engine, ada, "feed", ["feed"]).plaintext
    titles = _titles(engine)
    with open_client(settings) as client:
        feed = feedparser.parse(client.get(f"/feeds/private/{token}.rss").content)
    assert feed.bozo == 0
    assert "For you" in feed.feed.description
    ids = [entry.link.rsplit("/papers/", 1)[1] for entry in feed.entries]
    assert len(ids) == 5
    assert ids != expected_papers(trending_order(engine, NEXT_DAY), Preferences(top_n=5))
    assert all("Protein" in titles[arxiv_id] for arxiv_id in ids[:4]), [titles[i] for i in ids]
