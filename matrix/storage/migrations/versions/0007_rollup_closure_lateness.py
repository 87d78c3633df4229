"""rollup: on-time closures and the lateness of closed cases per day x account, for the rankings

Revision ID: 0007
Revises: 0006

Four columns on `rollup_case_days` (every existing row is kept; they start at 0 and are filled here):
`on_time_closed`, `late_closed`, `late_closed_minutes` and `calendar_key` (the working calendar the
lateness was measured on). The triggers are re-created to watch `closed_at` and `closure_due` too,
then the rollup is rebuilt with the shipped policy's calendar (another policy's calendar re-measures
its days on the clock's first refresh). See matrix/storage/rollup.py.
"""
import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

COLUMNS = ("on_time_closed", "late_closed", "late_closed_minutes", "calendar_key")


def upgrade() -> None:
    op.add_column("rollup_case_days", sa.Column("on_time_closed", sa.Integer(), nullable=False, server_default="0"))
    op.add_column("rollup_case_days", sa.Column("late_closed", sa.Integer(), nullable=False, server_default="0"))
    op.add_column("rollup_case_days", sa.Column("late_closed_minutes", sa.BigInteger(), nullable=False,
                                                server_default="0"))
    op.add_column("rollup_case_days", sa.Column("calendar_key", sa.String(length=16), nullable=False,
                                                server_default=""))
    from matrix.storage import rollup

    rollup.install(op.get_bind())  # triggers anew (two more columns watched), and the rollup refilled


def downgrade() -> None:
    with op.batch_alter_table("rollup_case_days") as batch:
        for name in COLUMNS:
            batch.drop_column(name)
