"""posts: indexes that the case engine's lookups use, no more than before

Revision ID: 0010
Revises: 0009

- ix_posts_created_at goes: ix_posts_dash_created (created_at, user_id, sentiment_label) has the same first column,
  so every query by the posts' time uses that one; the single-column index only cost a write per stored post.
- ix_posts_user_id becomes ix_posts_user_kind_created (user_id, item_type, created_at). The case engine reads the
  members' own posts since a case opened (`Threads.load`: a member's post naming the citizen answers the case);
  by user_id alone that read walked every comment and repost the members ever wrote (on a generated archive of
  200,000 items, 55,000 rows for 1,800 posts, each batch). Queries by user_id alone use its first column.
"""
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_posts_created_at", table_name="posts")
    op.create_index("ix_posts_user_kind_created", "posts", ["user_id", "item_type", "created_at"])
    op.drop_index("ix_posts_user_id", table_name="posts")


def downgrade() -> None:
    op.create_index("ix_posts_user_id", "posts", ["user_id"])
    op.drop_index("ix_posts_user_kind_created", table_name="posts")
    op.create_index("ix_posts_created_at", "posts", ["created_at"])
