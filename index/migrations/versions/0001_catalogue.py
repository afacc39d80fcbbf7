"""The catalogue as it was before migrations: articles, their chunk rows, and counters.

Catalogues created before Alembic already have these tables; `if_not_exists` lets them adopt this revision.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "articles",
        sa.Column("article_id", sa.Text, primary_key=True),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("outlet", sa.Text, nullable=False),
        sa.Column("author", sa.Text, nullable=False),
        sa.Column("published", sa.Text),
        sa.Column("url", sa.Text),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("collection", sa.Text, nullable=False),
        sa.Column("n_chunks", sa.Integer, nullable=False),
        sa.Column("added_at", sa.Float, nullable=False),
        sa.CheckConstraint("status IN ('pending', 'complete', 'removing')", name="articles_status_check"),
        if_not_exists=True,
    )
    op.create_index("articles_url", "articles", ["url"], if_not_exists=True)
    op.create_index("articles_status", "articles", ["status"], if_not_exists=True)
    op.create_table(
        "chunks",
        sa.Column("chunk_id", sa.Text, primary_key=True),
        sa.Column("article_id", sa.Text, sa.ForeignKey("articles.article_id", ondelete="CASCADE"), nullable=False),
        sa.Column("ordinal", sa.Integer, nullable=False),
        sa.Column("start", sa.Integer, nullable=False),
        sa.Column("end", sa.Integer, nullable=False),
        if_not_exists=True,
    )
    op.create_index("chunks_article", "chunks", ["article_id"], if_not_exists=True)
    op.create_table(
        "state",
        sa.Column("key", sa.Text, primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
        if_not_exists=True,
    )


def downgrade() -> None:
    op.drop_table("chunks")
    op.drop_table("articles")
    op.drop_table("state")
