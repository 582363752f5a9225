"""follows and alerts

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 11:50:00

- paper_authors.name_key: the normalised author name author pages and follows match on, indexed
  with the paper id; existing rows are filled here (one UPDATE per distinct name).
- follows: what each member follows (author, category, saved search, paper).
- notifications: alerts, one per member, kind, paper and dedupe key.
- paper_alert_marks: per watched paper, the activity at its last activity alert.
"""

import re
import unicodedata

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_SEPARATORS = re.compile(r"[.\-‐‑‒–—]")


def _author_key(name: str) -> str:
    """domain.follows.author_key as of this revision (a migration does not import live code)."""
    decomposed = unicodedata.normalize("NFKD", name)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(_SEPARATORS.sub(" ", plain.casefold()).split())


def upgrade() -> None:
    op.add_column("paper_authors", sa.Column("name_key", sa.Text(), nullable=True))
    _fill_name_keys()
    op.create_index("ix_paper_authors_name_key", "paper_authors", ["name_key", "paper_id"], unique=False)
    _create_follows()
    _create_notifications()
    op.create_table(
        "paper_alert_marks",
        sa.Column("paper_id", _ID, nullable=False),
        sa.Column("activity", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["paper_id"], ["papers.id"], name=op.f("fk_paper_alert_marks_paper_id_papers"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("paper_id", name=op.f("pk_paper_alert_marks")),
    )


def _fill_name_keys() -> None:
    conn = op.get_bind()
    names = [row[0] for row in conn.execute(sa.text("SELECT DISTINCT name FROM paper_authors"))]
    update = sa.text("UPDATE paper_authors SET name_key = :key WHERE name = :name")
    for start in range(0, len(names), 5000):
        chunk = names[start : start + 5000]
        conn.execute(update, [{"key": _author_key(name), "name": name} for name in chunk])


def _create_follows() -> None:
    op.create_table(
        "follows",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("user_id", _ID, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("label", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_follows_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_follows")),
        sa.UniqueConstraint("user_id", "kind", "value", name="uq_follows_user_id_kind_value"),
    )
    op.create_index("ix_follows_kind_value", "follows", ["kind", "value"], unique=False)


def _create_notifications() -> None:
    op.create_table(
        "notifications",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("user_id", _ID, nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("paper_id", _ID, nullable=False),
        sa.Column("follow_id", _ID, nullable=True),
        sa.Column("dedupe_key", sa.String(length=64), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("mailed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("fed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["follow_id"],
            ["follows.id"],
            name=op.f("fk_notifications_follow_id_follows"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["paper_id"], ["papers.id"], name=op.f("fk_notifications_paper_id_papers"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_notifications_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
        sa.UniqueConstraint(
            "user_id",
            "kind",
            "paper_id",
            "dedupe_key",
            name="uq_notifications_user_id_kind_paper_id_dedupe_key",
        ),
    )
    op.create_index("ix_notifications_user_id_seen_at", "notifications", ["user_id", "seen_at"], unique=False)
    op.create_index("ix_notifications_user_id_id", "notifications", ["user_id", "id"], unique=False)


def downgrade() -> None:
    op.drop_table("paper_alert_marks")
    op.drop_index("ix_notifications_user_id_id", table_name="notifications")
    op.drop_index("ix_notifications_user_id_seen_at", table_name="notifications")
    op.drop_table("notifications")
    op.drop_index("ix_follows_kind_value", table_name="follows")
    op.drop_table("follows")
    op.drop_index("ix_paper_authors_name_key", table_name="paper_authors")
    # Not a batch copy on SQLite: the FTS triggers of 0003 name paper_authors (3.35+ drops in place).
    op.drop_column("paper_authors", "name_key")
