"""Wire copies: each article's MinHash signature, and the first copy of its group (index/copies.py).

`copy_of` is NULL for an article that copies nothing indexed before it (a group's first copy, or no group);
otherwise the id of its group's first copy. `minhash` is NULL for articles ingested before this revision (they
are signed at the next ingest, from the text the catalogue keeps).

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("articles", sa.Column("copy_of", sa.Text))
    op.add_column("articles", sa.Column("minhash", sa.LargeBinary))
    op.create_index("articles_copy_of", "articles", ["copy_of"])


def downgrade() -> None:
    op.drop_index("articles_copy_of", table_name="articles")
    with op.batch_alter_table("articles") as batch:
        batch.drop_column("minhash")
        batch.drop_column("copy_of")
