"""inspection: cases opened from comments under members' own posts; checks of links in members' posts

Revision ID: 0009
Revises: 0008

`cases.origin` says where a case came from: 'mention' (a citizen's post naming an account, every case so far)
or 'comment' (a citizen's request in the comments under a member's own post). `posts.is_pinned` marks a post
pinned to the top of its author's timeline. `link_checks` holds one row per
link seen in a member's own posts: the post and account it was first seen in, when it was last checked (at most
once a day) and what the check found.
"""
from alembic import op
import sqlalchemy as sa

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("cases", sa.Column("origin", sa.String(length=16), nullable=False, server_default="mention"))
    op.add_column("posts", sa.Column("is_pinned", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_table(
        "link_checks",
        sa.Column("url", sa.String(length=1024), nullable=False),
        sa.Column("post_id", sa.String(length=32), nullable=False),
        sa.Column("account_uid", sa.String(length=32), nullable=False),
        sa.Column("first_seen_at", sa.DateTime(), nullable=False),
        sa.Column("checked_at", sa.DateTime(), nullable=True),
        sa.Column("checks", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("ok", sa.Boolean(), nullable=True),
        sa.Column("http_status", sa.Integer(), nullable=True),
        sa.Column("final_url", sa.Text(), nullable=False, server_default=""),
        sa.Column("error", sa.Text(), nullable=False, server_default=""),
        sa.Column("dead_since", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("url", name=op.f("pk_link_checks")),
    )
    op.create_index(op.f("ix_link_checks_account_uid"), "link_checks", ["account_uid"], unique=False)
    op.create_index(op.f("ix_link_checks_checked_at"), "link_checks", ["checked_at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_link_checks_checked_at"), table_name="link_checks")
    op.drop_index(op.f("ix_link_checks_account_uid"), table_name="link_checks")
    op.drop_table("link_checks")
    # plain DROP COLUMN (SQLite 3.35+ has it): a batch copy of posts or cases would trip over the foreign keys
    # that point at them
    op.execute("ALTER TABLE posts DROP COLUMN is_pinned")
    op.execute("ALTER TABLE cases DROP COLUMN origin")
