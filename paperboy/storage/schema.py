"""The catalogue schema, in SQLAlchemy Core. Migrations in migrations/versions mirror it
(tests/unit/storage/test_migrations.py fails when they drift apart)."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.dialects.postgresql import TSVECTOR

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# BigInteger ids render as INTEGER on SQLite so that they alias the rowid.
IdType = BigInteger().with_variant(Integer(), "sqlite")

papers = Table(
    "papers",
    metadata,
    Column("id", IdType, primary_key=True, autoincrement=True),
    Column("arxiv_id", String(64), nullable=False, unique=True),
    Column("title", Text, nullable=False),
    Column("abstract", Text, nullable=False),
    Column("comment", Text),
    Column("journal_ref", Text),
    Column("doi", Text),
    Column("license", Text),
    Column("submitter", Text),
    Column("primary_category", String(32)),
    Column("published_at", DateTime(timezone=True)),  # v1 submitted
    Column("updated_at", DateTime(timezone=True)),  # latest version submitted
    Column("latest_version", SmallInteger),
    Column("first_listed", Date),  # earliest listing day (denormalised for sorting)
    Column("content_hash", String(32), nullable=False),  # of the merged record; skips no-op writes
    Column("source_hash", String(32)),  # of the last record applied; skips re-applying it
    Column("changed_at", DateTime(timezone=True), nullable=False),  # last change in paperboy
)
Index("ix_papers_first_listed", papers.c.first_listed)
Index("ix_papers_changed_at", papers.c.changed_at)

paper_authors = Table(
    "paper_authors",
    metadata,
    Column("paper_id", IdType, ForeignKey("papers.id", ondelete="CASCADE"), primary_key=True),
    Column("position", SmallInteger, primary_key=True, autoincrement=False),
    Column("name", Text, nullable=False),
    # domain.follows.author_key(name): what author pages and author follows match on
    Column("name_key", Text),
)
Index("ix_paper_authors_name", paper_authors.c.name)
Index("ix_paper_authors_name_key", paper_authors.c.name_key, paper_authors.c.paper_id)

paper_categories = Table(
    "paper_categories",
    metadata,
    Column("paper_id", IdType, ForeignKey("papers.id", ondelete="CASCADE"), primary_key=True),
    Column("category", String(32), primary_key=True),
    Column("position", SmallInteger, nullable=False),  # 0 = primary
)
Index("ix_paper_categories_category", paper_categories.c.category, paper_categories.c.paper_id)

paper_versions = Table(
    "paper_versions",
    metadata,
    Column("paper_id", IdType, ForeignKey("papers.id", ondelete="CASCADE"), primary_key=True),
    Column("version", SmallInteger, primary_key=True, autoincrement=False),
    Column("created_at", DateTime(timezone=True)),
    Column("size", String(32)),
)

paper_links = Table(
    "paper_links",
    metadata,
    Column("paper_id", IdType, ForeignKey("papers.id", ondelete="CASCADE"), primary_key=True),
    Column("position", SmallInteger, primary_key=True, autoincrement=False),
    Column("kind", String(16), nullable=False),  # "code" | "project"
    Column("url", Text, nullable=False),
)

listings = Table(
    "listings",
    metadata,
    Column("day", Date, primary_key=True),
    Column("paper_id", IdType, ForeignKey("papers.id", ondelete="CASCADE"), primary_key=True),
    Column("announce_type", String(16)),  # new | cross | replace | replace-cross | NULL unknown
)
# (paper_id, day): a paper's listings, and "first listing in a period" checks from the index alone.
Index("ix_listings_paper_id_day", listings.c.paper_id, listings.c.day)

hf_papers = Table(
    "hf_papers",
    metadata,
    Column("paper_id", IdType, ForeignKey("papers.id", ondelete="CASCADE"), primary_key=True),
    Column("upvotes", Integer, nullable=False),
    Column("submitted_on_daily_at", DateTime(timezone=True)),
    Column("submitted_by", Text),
    Column("github_repo", Text),
    Column("github_stars", Integer),
    Column("project_page", Text),
    Column("num_comments", Integer),
    Column("fetched_at", DateTime(timezone=True), nullable=False),
)

# The lexical index on PostgreSQL: one weighted tsvector per paper (title A, authors B, abstract C),
# written by storage/lexical_index.py. Empty on SQLite, whose index is the FTS5 table paper_fts that
# migration 0003 creates (virtual tables cannot be declared here).
paper_search = Table(
    "paper_search",
    metadata,
    Column("paper_id", IdType, ForeignKey("papers.id", ondelete="CASCADE"), primary_key=True),
    Column("document", TSVECTOR().with_variant(Text(), "sqlite"), nullable=False),
)
Index("ix_paper_search_document", paper_search.c.document, postgresql_using="gin")

sync_state = Table(
    "sync_state",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)


# --- the community: accounts, sessions, submissions, votes, comments, moderation -------------

users = Table(
    "users",
    metadata,
    Column("id", IdType, primary_key=True, autoincrement=True),
    Column("email", String(320), nullable=False, unique=True),  # normalised: lower-cased
    Column("name", String(40), nullable=False, unique=True),  # public handle, lower-cased
    Column("password_hash", Text, nullable=False),  # argon2id
    Column("role", String(16), nullable=False),  # member | moderator | admin
    Column("email_verified_at", DateTime(timezone=True)),
    Column("banned_at", DateTime(timezone=True)),
    Column("ban_reason", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("password_changed_at", DateTime(timezone=True), nullable=False),
    # The member's listings leave out the papers they have seen (services/seen.py).
    Column("hide_seen", Boolean, nullable=False, server_default=false()),
)

sessions = Table(
    "sessions",
    metadata,
    Column("id", String(64), primary_key=True),  # sha256 of the cookie's token: a leak logs nobody in
    Column("user_id", IdType, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("last_seen_at", DateTime(timezone=True), nullable=False),
    Column("user_agent", String(80)),  # coarse: "Firefox on Linux", for the settings page's list
    Column("client_ip", String(64)),  # as rate limits count it (IPv6 by /64)
)
Index("ix_sessions_user_id", sessions.c.user_id)

# Personal access tokens for the API (services/api_tokens.py): only the sha256 of a token is kept;
# `prefix` (its first characters) is what the settings page shows to tell tokens apart.
api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", IdType, primary_key=True, autoincrement=True),
    Column("user_id", IdType, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(80), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("prefix", String(16), nullable=False),
    Column("scopes", String(80), nullable=False),  # space-separated: read vote submit comment feed
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("last_used_at", DateTime(timezone=True)),
    Column("revoked_at", DateTime(timezone=True)),
)
Index("ix_api_tokens_user_id", api_tokens.c.user_id)

password_resets = Table(
    "password_resets",
    metadata,
    Column("id", String(64), primary_key=True),  # sha256 of the mailed token
    Column("user_id", IdType, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("used_at", DateTime(timezone=True)),
)
Index("ix_password_resets_user_id", password_resets.c.user_id)

submissions = Table(
    "submissions",
    metadata,
    Column("paper_id", IdType, ForeignKey("papers.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", IdType, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("day", Date, nullable=False),  # the feed day it was submitted to (UTC)
    Column("submitted_at", DateTime(timezone=True), nullable=False),
)
Index("ix_submissions_user_id", submissions.c.user_id, submissions.c.submitted_at)

votes = Table(
    "votes",
    metadata,
    Column("paper_id", IdType, ForeignKey("papers.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", IdType, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)
Index("ix_votes_user_id", votes.c.user_id, votes.c.created_at)

# A member's library: the papers they saved, private to them (services/library.py).
library_items = Table(
    "library_items",
    metadata,
    Column("user_id", IdType, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("paper_id", IdType, ForeignKey("papers.id", ondelete="CASCADE"), primary_key=True),
    Column("saved_at", DateTime(timezone=True), nullable=False),
    # When the member marked it read (None: unread). A column here rather than a table: read
    # marks belong to saved papers, the library's read/unread filter is then a predicate on the
    # rows it lists anyway, and removing a paper from the library forgets its mark.
    Column("read_at", DateTime(timezone=True), nullable=True),
)
Index("ix_library_items_user_id", library_items.c.user_id, library_items.c.saved_at)

# --- collections (issue 16): named, ordered lists of a member's saved papers, public or private.
# Every paper in a collection is in its owner's library too (services/collections.py keeps it so).
collections = Table(
    "collections",
    metadata,
    Column("id", IdType, primary_key=True, autoincrement=True),
    Column("user_id", IdType, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(100), nullable=False),
    Column("slug", String(120), nullable=False),  # from the name, unique per member; URLs carry it
    Column("description", Text, nullable=False),
    Column("is_public", Boolean, nullable=False),
    Column("position", Integer, nullable=False),  # the member's order of their collections
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("user_id", "slug", name="uq_collections_user_id_slug"),
)
Index("ix_collections_user_id", collections.c.user_id, collections.c.position)

collection_items = Table(
    "collection_items",
    metadata,
    Column("collection_id", IdType, ForeignKey("collections.id", ondelete="CASCADE"), primary_key=True),
    Column("paper_id", IdType, ForeignKey("papers.id", ondelete="CASCADE"), primary_key=True),
    Column("position", Integer, nullable=False),  # the collection's order, 1 first
    Column("added_at", DateTime(timezone=True), nullable=False),
)
Index("ix_collection_items_collection_id", collection_items.c.collection_id, collection_items.c.position)
Index("ix_collection_items_paper_id", collection_items.c.paper_id)

# A member's private note on a paper, shown to them alone.
library_notes = Table(
    "library_notes",
    metadata,
    Column("user_id", IdType, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("paper_id", IdType, ForeignKey("papers.id", ondelete="CASCADE"), primary_key=True),
    Column("note", Text, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# What a member told us about a paper for themselves alone: "not interested" hides it from their
# feeds (services/feedback.py) and will train their recommendations.
paper_feedback = Table(
    "paper_feedback",
    metadata,
    Column("user_id", IdType, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("paper_id", IdType, ForeignKey("papers.id", ondelete="CASCADE"), primary_key=True),
    Column("signal", String(20), nullable=False),  # "not_interested"
    Column("created_at", DateTime(timezone=True), nullable=False),
)
Index("ix_paper_feedback_user_id", paper_feedback.c.user_id, paper_feedback.c.created_at)

# The papers a member has seen: opened (their page) or mailed in a digest; saved papers count as
# seen through library_items. "Hide seen" leaves them out of the member's listings.
seen_papers = Table(
    "seen_papers",
    metadata,
    Column("user_id", IdType, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("paper_id", IdType, ForeignKey("papers.id", ondelete="CASCADE"), primary_key=True),
    Column("seen_at", DateTime(timezone=True), nullable=False),
    Column("how", String(10), nullable=False),  # "opened" | "mailed"
)

# A member's "For you" settings (services/recommend.py): how much of the order is their own
# relevance against the community's trending (0-100), and when they last reset it (signals
# older than that no longer train it; none is deleted).
reader_preferences = Table(
    "reader_preferences",
    metadata,
    Column("user_id", IdType, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("personal_share", SmallInteger, nullable=False),
    Column("reset_at", DateTime(timezone=True)),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# A member's "For you" scores of one period (and category), fitted by whichever process first
# needed them and read by every other (services/recommend_store.py); `version` is a digest of
# everything they were fitted from (signals, follows, catalogue version, vectors generation,
# weights): one row per member and scope, replaced when that changes.
reader_scores = Table(
    "reader_scores",
    metadata,
    Column("user_id", IdType, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("scope", String(64), primary_key=True),
    Column("version", String(64), nullable=False),
    Column("scores", LargeBinary, nullable=False),
    Column("made_at", DateTime(timezone=True), nullable=False),
)

# What a member follows (services/follows.py): an author (value: domain.follows.author_key), a
# category (its code), a saved search (the query text) or a paper (its arXiv id). Private to them.
follows = Table(
    "follows",
    metadata,
    Column("id", IdType, primary_key=True, autoincrement=True),
    Column("user_id", IdType, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(16), nullable=False),  # author | category | search | paper
    Column("value", Text, nullable=False),
    Column("label", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("user_id", "kind", "value", name="uq_follows_user_id_kind_value"),
)
# Alerts look members up by what they follow.
Index("ix_follows_kind_value", follows.c.kind, follows.c.value)

# Alerts (services/alerts.py): one row per member, kind, paper and dedupe key (a version number,
# "code", "journal", an activity level), so the same alert is never made twice. Each is shown once:
# seen on the notifications page, or mailed in a digest, or put in the private feed.
notifications = Table(
    "notifications",
    metadata,
    Column("id", IdType, primary_key=True, autoincrement=True),
    Column("user_id", IdType, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(24), nullable=False),
    Column("paper_id", IdType, ForeignKey("papers.id", ondelete="CASCADE"), nullable=False),
    Column("follow_id", IdType, ForeignKey("follows.id", ondelete="SET NULL")),
    Column("dedupe_key", String(64), nullable=False),
    Column("detail", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("seen_at", DateTime(timezone=True)),
    Column("mailed_at", DateTime(timezone=True)),
    Column("fed_at", DateTime(timezone=True)),
    UniqueConstraint(
        "user_id", "kind", "paper_id", "dedupe_key", name="uq_notifications_user_id_kind_paper_id_dedupe_key"
    ),
)
# The header's count of unseen alerts and the page's newest first, from the index alone.
Index("ix_notifications_user_id_seen_at", notifications.c.user_id, notifications.c.seen_at)
Index("ix_notifications_user_id_id", notifications.c.user_id, notifications.c.id)

# Per watched paper, the activity (upvotes + comments, here and on Hugging Face) at its last
# activity alert: the next one comes when it has grown by alert_activity_threshold.
paper_alert_marks = Table(
    "paper_alert_marks",
    metadata,
    Column("paper_id", IdType, ForeignKey("papers.id", ondelete="CASCADE"), primary_key=True),
    Column("activity", Integer, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# A member's imports into their library (services/library_imports.py): one row per uploaded file
# or list of ids, with its progress; the papers it must still fetch from arXiv in
# library_import_items, in the file's order.
library_imports = Table(
    "library_imports",
    metadata,
    Column("id", IdType, primary_key=True, autoincrement=True),
    Column("user_id", IdType, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    # the collection it fills, if any, and the position its first entry takes there, less one
    Column("collection_id", IdType, ForeignKey("collections.id", ondelete="SET NULL")),
    Column("collection_offset", Integer, nullable=False),
    Column("collections", Text),  # a paperboy library file's: the ids of the collections it made, as JSON
    Column("kind", String(20), nullable=False),  # domain/library_import.KINDS
    Column("filename", String(200), nullable=False),
    Column("status", String(10), nullable=False),  # queued | running | done | failed
    Column("total", Integer, nullable=False),
    Column("matched", Integer, nullable=False),  # in the catalogue already: saved at once
    Column("fetched", Integer, nullable=False),  # fetched from arXiv, then saved
    Column("unmatched", Text, nullable=False),  # JSON list of the titles (or text) not found
    Column("document", Text),  # a paperboy library file's saves and collections, as JSON
    Column("message", Text),  # why it failed, or the last failure it will retry
    Column("attempts", SmallInteger, nullable=False),  # failed turns with arXiv so far
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),  # the worker's heartbeat
    Column("finished_at", DateTime(timezone=True)),
)
Index("ix_library_imports_user_id", library_imports.c.user_id, library_imports.c.created_at)
Index("ix_library_imports_status", library_imports.c.status)

library_import_items = Table(
    "library_import_items",
    metadata,
    Column("import_id", IdType, ForeignKey("library_imports.id", ondelete="CASCADE"), primary_key=True),
    Column("position", Integer, primary_key=True, autoincrement=False),  # the entry's place in the file
    Column("arxiv_id", String(64), nullable=False),
    Column("title", Text),
    Column("state", String(10), nullable=False),  # waiting | saved | missing (arXiv does not know it)
)

# Counters kept in the same transaction as the votes and comments they count, so that feed
# pages rank thousands of papers without counting rows. votes / comments stay the truth.
paper_stats = Table(
    "paper_stats",
    metadata,
    Column("paper_id", IdType, ForeignKey("papers.id", ondelete="CASCADE"), primary_key=True),
    Column("upvotes", Integer, nullable=False),
    Column("comments", Integer, nullable=False),  # visible comments: not deleted, not hidden
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

comments = Table(
    "comments",
    metadata,
    Column("id", IdType, primary_key=True, autoincrement=True),
    Column("paper_id", IdType, ForeignKey("papers.id", ondelete="CASCADE"), nullable=False),
    Column("user_id", IdType, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("parent_id", IdType, ForeignKey("comments.id", ondelete="CASCADE")),
    Column("body", Text, nullable=False),  # Markdown as written
    Column("body_html", Text, nullable=False),  # rendered and sanitised when written
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("edited_at", DateTime(timezone=True)),
    Column("deleted_at", DateTime(timezone=True)),
    Column("hidden_at", DateTime(timezone=True)),
    Column("hidden_by", IdType, ForeignKey("users.id", ondelete="SET NULL")),
)
Index("ix_comments_paper_id", comments.c.paper_id, comments.c.id)
Index("ix_comments_user_id", comments.c.user_id, comments.c.created_at)
Index("ix_comments_parent_id", comments.c.parent_id)

moderation_log = Table(
    "moderation_log",
    metadata,
    Column("id", IdType, primary_key=True, autoincrement=True),
    Column("moderator_id", IdType, ForeignKey("users.id", ondelete="SET NULL")),
    Column("action", String(32), nullable=False),  # hide_comment | unhide_comment | ban | unban | role
    Column("user_id", IdType, ForeignKey("users.id", ondelete="CASCADE")),
    Column("comment_id", IdType, ForeignKey("comments.id", ondelete="CASCADE")),
    Column("reason", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

# Fixed-window counters shared by every web process: rate limits and login throttling.
rate_counters = Table(
    "rate_counters",
    metadata,
    Column("bucket", String(200), primary_key=True),  # e.g. "vote:user:42", "login-fail:ip:1.2.3.4"
    Column("window_start", BigInteger, primary_key=True, autoincrement=False),  # epoch seconds
    Column("hits", Integer, nullable=False),
    Column("expires_at", BigInteger, nullable=False),  # epoch seconds; purged after
)
Index("ix_rate_counters_expires_at", rate_counters.c.expires_at)

# Failed logins per (account, client address) and the wait they earned (services/rate_limits.py).
login_throttle = Table(
    "login_throttle",
    metadata,
    Column("bucket", String(200), primary_key=True),  # "login:email:ada@example.org:ip:192.0.2.1"
    Column("failures", Integer, nullable=False),  # attempts counted before their outcome was known
    Column("blocked_until", BigInteger, nullable=False),  # epoch seconds; no attempt before it
    Column("expires_at", BigInteger, nullable=False),  # epoch seconds; forgotten after
)
Index("ix_login_throttle_expires_at", login_throttle.c.expires_at)


def is_declared(name: str | None, type_: str, parent_names: object = None) -> bool:
    """Alembic's `include_name` hook: False for SQLite's FTS5 table paper_fts and its shadow
    tables (paper_fts_data, …), which migration 0003 creates and no Table here describes."""
    fts5 = name is not None and (name == "paper_fts" or name.startswith("paper_fts_"))
    return not (type_ == "table" and fts5)


# Embeddings of title + abstract (storage/vectors.py): one per paper and model, computed from the
# paper version recorded here, as float16 little-endian bytes (docs/search.md, "Semantic index").

paper_embeddings = Table(
    "paper_embeddings",
    metadata,
    Column("paper_id", IdType, ForeignKey("papers.id", ondelete="CASCADE"), primary_key=True),
    Column("model", Text, primary_key=True),  # Embedder.model_id, e.g. "all-MiniLM-L6-v2"
    Column("version", Integer, nullable=False),  # papers.latest_version embedded (0: unknown)
    Column("vector", LargeBinary, nullable=False),
)

# Each paper's nearest neighbours by one model's vectors, computed by `paperboy index` and after
# new papers are embedded (services/paper_neighbours.py), so that every web process reads a
# paper page's similar papers with one indexed statement instead of searching the vectors.
# A list is used only while its paper's vector and each neighbour's are at the versions it was
# computed from, and while it still has its `listed` rows (storage/neighbours.py).
paper_neighbours = Table(
    "paper_neighbours",
    metadata,
    Column("paper_id", IdType, ForeignKey("papers.id", ondelete="CASCADE"), primary_key=True),
    Column("model", Text, primary_key=True),
    Column("rank", Integer, primary_key=True),  # 0: the nearest
    Column("neighbour_id", IdType, ForeignKey("papers.id", ondelete="CASCADE"), nullable=False),
    Column("score", Float, nullable=False),  # the cosine
    Column("version", Integer, nullable=False),  # the paper's vector version the list was computed from
    Column("neighbour_version", Integer, nullable=False),  # the neighbour's
    Column("listed", Integer, nullable=False),  # rows in the list when computed
    Column("generation", BigInteger, nullable=False),  # the vectors' generation then
)
Index("ix_paper_neighbours_neighbour", paper_neighbours.c.neighbour_id)


# E-mail digests (docs/digests.md): subscriptions with their preferences, editions (one per
# frequency and day), a send log that makes delivery exactly-once, and the papers mailed to each
# subscriber ("only papers new to me").

digest_subscriptions = Table(
    "digest_subscriptions",
    metadata,
    Column("id", IdType, primary_key=True, autoincrement=True),
    Column("email", String(320), nullable=False, unique=True),  # normalised: lower-cased
    Column("user_id", IdType, ForeignKey("users.id", ondelete="SET NULL"), unique=True),
    Column("status", String(16), nullable=False),  # pending | active | unsubscribed | bouncing
    Column("nonce", String(32), nullable=False),  # inside every signed link; a new one revokes them
    Column("frequency", String(8), nullable=False),  # daily | weekly
    Column("weekday", SmallInteger, nullable=False),  # weekly: 0 = Monday
    Column("top_n", SmallInteger, nullable=False),
    Column("categories", Text, nullable=False),  # space-separated; empty: every category
    Column("include_keywords", Text, nullable=False),  # one per line; empty: every paper
    Column("exclude_keywords", Text, nullable=False),
    Column("only_new", Boolean, nullable=False),
    # Members only: ranked by their "For you" order instead of trending (migration 0015).
    Column("for_you", Boolean, nullable=False, server_default=false()),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("confirmed_at", DateTime(timezone=True)),
    Column("changed_at", DateTime(timezone=True), nullable=False),
    Column("bounce_reason", Text),
)
Index("ix_digest_subscriptions_status", digest_subscriptions.c.status, digest_subscriptions.c.frequency)

digest_editions = Table(
    "digest_editions",
    metadata,
    Column("key", String(40), primary_key=True),  # "daily:2026-11-27", "weekly:2026-11-30"
    Column("frequency", String(8), nullable=False),
    Column("period_start", Date, nullable=False),  # the listing days it covers
    Column("period_end", Date, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("sender", String(200)),  # "host:pid" of the run sending it now (a lease)
    Column("heartbeat_at", DateTime(timezone=True)),
    Column("finished_at", DateTime(timezone=True)),
)

digest_sends = Table(
    "digest_sends",
    metadata,
    Column("edition", String(40), ForeignKey("digest_editions.key", ondelete="CASCADE"), primary_key=True),
    Column(
        "subscription_id",
        IdType,
        ForeignKey("digest_subscriptions.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("status", String(12), nullable=False),  # sent | skipped | bounced | deferred
    Column("attempts", SmallInteger, nullable=False),
    Column("message_id", Text),
    Column("papers", Text, nullable=False),  # space-separated arXiv ids, in mail order
    Column("at", DateTime(timezone=True), nullable=False),
    Column("error", Text),
)
Index("ix_digest_sends_subscription_id", digest_sends.c.subscription_id)

digest_mailed = Table(
    "digest_mailed",
    metadata,
    Column(
        "subscription_id",
        IdType,
        ForeignKey("digest_subscriptions.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("paper_id", IdType, ForeignKey("papers.id", ondelete="CASCADE"), primary_key=True),
    Column("mailed_at", DateTime(timezone=True), nullable=False),
)
Index("ix_digest_mailed_paper_id", digest_mailed.c.paper_id)

# The job queue (migration 0016; services/jobs.py): sync, embedding, digests, alerts, library
# imports' fetches, run by `paperboy worker` on any host. A job is taken with
# `FOR UPDATE SKIP LOCKED` and held by a lease its worker renews; a lease run out (the worker
# died) puts the job back in the queue.
jobs = Table(
    "jobs",
    metadata,
    Column("id", IdType, primary_key=True, autoincrement=True),
    Column("kind", String(40), nullable=False),
    Column("args", Text, nullable=False),  # JSON object
    Column("unique_key", String(200), unique=True),  # a periodic slot, "sync@2026-12-07T12:00:00+00:00"
    Column("state", String(8), nullable=False),  # queued | running | done | failed
    Column("attempts", SmallInteger, nullable=False),  # tries started
    Column("max_attempts", SmallInteger, nullable=False),
    Column("run_after", DateTime(timezone=True), nullable=False),
    Column("worker", String(200)),  # "host:pid" holding the lease, or the last one
    Column("lease_until", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("started_at", DateTime(timezone=True)),
    Column("finished_at", DateTime(timezone=True)),
    Column("last_error", Text),
)
# In claim order, so that taking the oldest due job reads one index entry, not every due one.
Index("ix_jobs_state_run_after_id", jobs.c.state, jobs.c.run_after, jobs.c.id)
