"""daily rollups: per-day case and item counts for the board's period figures, kept exact by triggers

Revision ID: 0006
Revises: 0005

New tables only (every existing row is kept): `rollup_case_days` (day x account), `rollup_post_days`
(day) and the marker table `rollup_dirty`, plus triggers on `cases` and `posts` that mark the days a
write touches. The rollups are filled from the existing rows here, so `wzmon db upgrade` is also the
rebuild (since 0007, which adds columns the fill writes, the fill happens there). See matrix/storage/rollup.py.
"""
import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rollup_case_days",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("account_uid", sa.String(length=32), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("counted", sa.Integer(), nullable=False),
        sa.Column("active", sa.Integer(), nullable=False),
        sa.Column("overdue", sa.Integer(), nullable=False),
        sa.Column("closed", sa.Integer(), nullable=False),
        sa.Column("negative", sa.Integer(), nullable=False),
        sa.Column("responded", sa.Integer(), nullable=False),
        sa.Column("on_time", sa.Integer(), nullable=False),
        sa.Column("minutes", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("day", "account_uid", name=op.f("pk_rollup_case_days")),
    )
    op.create_table(
        "rollup_post_days",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("posts", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_rollup_post_days")),
    )
    from matrix.storage import rollup

    # marker table and triggers; the first fill is left to 0007, whose columns the current code writes
    rollup.install(op.get_bind(), fill=False)


def downgrade() -> None:
    from matrix.storage import rollup

    rollup.uninstall(op.get_bind())
    op.drop_table("rollup_post_days")
    op.drop_table("rollup_case_days")
