"""alerts: contact fingerprint and sender lease (claimed_at, claimed_by)

Revision ID: 0003
Revises: 0001
Create Date: 2026-11-22 12:00:00

The outbox keeps no secret: the sender finds the contact again by `contact_key` (a fingerprint of
channel + address) in the roster at delivery time. `claimed_at`/`claimed_by` let several senders run
without sending one alert twice (a row is claimed with an atomic UPDATE ... WHERE status = 'pending').
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('contact_key', sa.String(length=64), server_default='', nullable=False))
        batch_op.add_column(sa.Column('claimed_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('claimed_by', sa.String(length=128), server_default='', nullable=False))
        batch_op.create_index(batch_op.f('ix_alerts_contact_key'), ['contact_key'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_alerts_contact_key'))
        batch_op.drop_column('claimed_by')
        batch_op.drop_column('claimed_at')
        batch_op.drop_column('contact_key')
