"""posts: drop ix_posts_created_at, which ix_posts_dash_created (created_at, user_id, sentiment_label) covers

Revision ID: 0010
Revises: 0009

Every query by the posts' time can use the board's index, whose first column is the same; the single-column
index only cost a write per stored post (an archive import of 200,000 items stores as many).
"""
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_posts_created_at", table_name="posts")


def downgrade() -> None:
    op.create_index("ix_posts_created_at", "posts", ["created_at"])
