"""Feeds that `newsdesk watch` polls, their last run, and the items each has seen.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "feeds",
        sa.Column("url", sa.Text, primary_key=True),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("added_at", sa.Float, nullable=False),
        # The last run: when, what it did, and why the feed itself failed (NULL when it did not).
        sa.Column("last_run_at", sa.Float),
        sa.Column("last_added", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_skipped", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_rejected", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_error", sa.Text),
    )
    op.create_table(
        "feed_items",
        sa.Column("feed_url", sa.Text, sa.ForeignKey("feeds.url", ondelete="CASCADE"), primary_key=True),
        # "guid:…", "url:…" or "text:…" (sha of the item's text): an item is seen when any of its keys is here.
        sa.Column("key", sa.Text, primary_key=True),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("reason", sa.Text, nullable=False, server_default=""),
        sa.Column("seen_at", sa.Float, nullable=False),
        sa.CheckConstraint("status IN ('done', 'failed')", name="feed_items_status_check"),
    )


def downgrade() -> None:
    op.drop_table("feed_items")
    op.drop_table("feeds")
