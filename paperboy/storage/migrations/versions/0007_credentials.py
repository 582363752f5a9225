"""credentials follow the account

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 21:00:00

- sessions: the client's coarse user agent and address, for the settings page's list of sessions.
- login_throttle: failed logins per (account, client address), with the growing wait they earned
  (services/rate_limits.py, `claim_attempt`).
- Tokens of unverified accounts are revoked: such accounts can no longer make tokens, and one made
  by someone who signed up with another person's address must not outlive that person's reset.
- A private feed token is single-purpose now: tokens that combined `feed` with other scopes lose
  `feed` (they keep their other scopes; their feed URL stops working, and the owner makes a
  feed-only token for it). Their plaintext is not stored, so they could not be split in two.
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sessions") as batch:
        batch.add_column(sa.Column("user_agent", sa.String(length=80), nullable=True))
        batch.add_column(sa.Column("client_ip", sa.String(length=64), nullable=True))
    op.create_table(
        "login_throttle",
        sa.Column("bucket", sa.String(length=200), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("blocked_until", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("bucket", name=op.f("pk_login_throttle")),
    )
    op.create_index("ix_login_throttle_expires_at", "login_throttle", ["expires_at"], unique=False)
    _revoke_tokens_of_unverified_accounts()
    _demote_combined_feed_tokens()


def _revoke_tokens_of_unverified_accounts() -> None:
    op.execute(
        "UPDATE api_tokens SET revoked_at = CURRENT_TIMESTAMP WHERE revoked_at IS NULL AND user_id IN "
        "(SELECT id FROM users WHERE email_verified_at IS NULL)"
    )


def _demote_combined_feed_tokens() -> None:
    conn = op.get_bind()
    rows = conn.execute(
        sa.text("SELECT id, scopes FROM api_tokens WHERE scopes <> 'feed' AND scopes LIKE '%feed%'")
    ).all()
    for token_id, scopes in rows:
        kept = " ".join(scope for scope in scopes.split() if scope != "feed")
        conn.execute(sa.text("UPDATE api_tokens SET scopes = :s WHERE id = :i"), {"s": kept, "i": token_id})


def downgrade() -> None:
    op.drop_index("ix_login_throttle_expires_at", table_name="login_throttle")
    op.drop_table("login_throttle")
    with op.batch_alter_table("sessions") as batch:
        batch.drop_column("client_ip")
        batch.drop_column("user_agent")
