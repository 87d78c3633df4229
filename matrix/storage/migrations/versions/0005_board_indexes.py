"""board indexes: covering indexes for the dashboard's period queries

Revision ID: 0005
Revises: 0004
"""
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_cases_dash_opened", "cases",
                    ["opened_at", "account_uid", "status", "sentiment_label"])
    op.create_index("ix_posts_dash_created", "posts", ["created_at", "user_id", "sentiment_label"])


def downgrade() -> None:
    op.drop_index("ix_posts_dash_created", table_name="posts")
    op.drop_index("ix_cases_dash_opened", table_name="cases")
