"""Alerts: a user's saved question, and how far the articles added since have been reported to them.

`read_until` is a point on the articles' `added_at` clock: articles added after it are the alert's news. It starts
at the alert's creation (so the first check reports what was added after the alert was made) and moves, at each
check, to the newest article that check read, not to the time of the check: an article whose ingest began
before a check and finished after it (its `added_at` is set when it is written `pending`) is still news next time.
The index on `articles.added_at` serves those look-ups and the unread counts.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alerts",
        sa.Column("alert_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("owner", sa.Text, nullable=False),  # a token's name, or "local" (the CLI, and all with auth off)
        sa.Column("question", sa.Text, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("read_until", sa.Float, nullable=False),
        sa.Column("last_checked_at", sa.Float),  # NULL until the first check
        sqlite_autoincrement=True,  # a removed alert's id is never given to a new one (Postgres: a sequence)
    )
    op.create_index("alerts_owner", "alerts", ["owner", "alert_id"])
    op.create_index("articles_added_at", "articles", ["added_at"])


def downgrade() -> None:
    op.drop_index("articles_added_at", table_name="articles")
    op.drop_index("alerts_owner", table_name="alerts")
    op.drop_table("alerts")
