"""Access tokens (stored as sha256 hashes only) and saved conversations with their turns.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tokens",
        sa.Column("name", sa.Text, primary_key=True),
        sa.Column("role", sa.Text, nullable=False),
        sa.Column("token_hash", sa.Text, nullable=False, unique=True),  # sha256 hex; the token itself is never stored
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("revoked_at", sa.Float),  # set = revoked; the row stays, so auth stays on after the last revoke
        sa.CheckConstraint("role IN ('reader', 'editor', 'admin')", name="tokens_role_check"),
    )
    op.create_table(
        "conversations",
        sa.Column("conversation_id", sa.Text, primary_key=True),
        sa.Column("owner", sa.Text, nullable=False),  # a token's name, or "local" when auth is off
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
    )
    op.create_index("conversations_owner", "conversations", ["owner", "updated_at"])
    op.create_table(
        "conversation_turns",
        sa.Column("conversation_id", sa.Text,
                  sa.ForeignKey("conversations.conversation_id", ondelete="CASCADE"), primary_key=True),
        sa.Column("ordinal", sa.Integer, primary_key=True),
        sa.Column("question", sa.Text, nullable=False),
        sa.Column("answer", sa.Text, nullable=False),  # the Answer contract as JSON (Answer.to_dict())
        sa.Column("asked_at", sa.Float, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("conversation_turns")
    op.drop_index("conversations_owner", table_name="conversations")
    op.drop_table("conversations")
    op.drop_table("tokens")
