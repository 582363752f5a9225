"""digests

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28 20:33:17.254934

E-mail digests: subscriptions with their preferences, editions, the send log that makes delivery
exactly-once, and the papers mailed to each subscriber (services/digests.py, docs/digests.md).
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "digest_editions",
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("frequency", sa.String(length=8), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sender", sa.String(length=200), nullable=True),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_digest_editions")),
    )
    op.create_table(
        "digest_subscriptions",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("nonce", sa.String(length=32), nullable=False),
        sa.Column("frequency", sa.String(length=8), nullable=False),
        sa.Column("weekday", sa.SmallInteger(), nullable=False),
        sa.Column("top_n", sa.SmallInteger(), nullable=False),
        sa.Column("categories", sa.Text(), nullable=False),
        sa.Column("include_keywords", sa.Text(), nullable=False),
        sa.Column("exclude_keywords", sa.Text(), nullable=False),
        sa.Column("only_new", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("bounce_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_digest_subscriptions_user_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_digest_subscriptions")),
        sa.UniqueConstraint("email", name=op.f("uq_digest_subscriptions_email")),
        sa.UniqueConstraint("user_id", name=op.f("uq_digest_subscriptions_user_id")),
    )
    with op.batch_alter_table("digest_subscriptions", schema=None) as batch_op:
        batch_op.create_index("ix_digest_subscriptions_status", ["status", "frequency"], unique=False)

    op.create_table(
        "digest_mailed",
        sa.Column("subscription_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("paper_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("mailed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["paper_id"], ["papers.id"], name=op.f("fk_digest_mailed_paper_id_papers"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["digest_subscriptions.id"],
            name=op.f("fk_digest_mailed_subscription_id_digest_subscriptions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("subscription_id", "paper_id", name=op.f("pk_digest_mailed")),
    )
    with op.batch_alter_table("digest_mailed", schema=None) as batch_op:
        batch_op.create_index("ix_digest_mailed_paper_id", ["paper_id"], unique=False)

    op.create_table(
        "digest_sends",
        sa.Column("edition", sa.String(length=40), nullable=False),
        sa.Column("subscription_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("attempts", sa.SmallInteger(), nullable=False),
        sa.Column("message_id", sa.Text(), nullable=True),
        sa.Column("papers", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["edition"],
            ["digest_editions.key"],
            name=op.f("fk_digest_sends_edition_digest_editions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["digest_subscriptions.id"],
            name=op.f("fk_digest_sends_subscription_id_digest_subscriptions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("edition", "subscription_id", name=op.f("pk_digest_sends")),
    )
    with op.batch_alter_table("digest_sends", schema=None) as batch_op:
        batch_op.create_index("ix_digest_sends_subscription_id", ["subscription_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("digest_sends", schema=None) as batch_op:
        batch_op.drop_index("ix_digest_sends_subscription_id")

    op.drop_table("digest_sends")
    with op.batch_alter_table("digest_mailed", schema=None) as batch_op:
        batch_op.drop_index("ix_digest_mailed_paper_id")

    op.drop_table("digest_mailed")
    with op.batch_alter_table("digest_subscriptions", schema=None) as batch_op:
        batch_op.drop_index("ix_digest_subscriptions_status")

    op.drop_table("digest_subscriptions")
    op.drop_table("digest_editions")
