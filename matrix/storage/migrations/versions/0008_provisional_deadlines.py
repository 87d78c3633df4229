"""cases: which deadlines rest on a provisional calendar year, and which could not be counted (时限待定)

Revision ID: 0008
Revises: 0007

`provisional_dues` (comma-separated clock names, '' for none) marks deadlines counted across a day of a
year whose State Council notice is not known yet (weekends and statutory days only, see
matrix/rules/holidays.py); `pending_dues` (JSON {clock: reason}, NULL for none) holds the deadlines the
working calendar could not count at all. Existing rows start with neither; the next clock refresh fills
them in.
"""
import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("cases", sa.Column("provisional_dues", sa.String(length=64), nullable=False, server_default=""))
    op.add_column("cases", sa.Column("pending_dues", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("pending_dues")
        batch.drop_column("provisional_dues")
