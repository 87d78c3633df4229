"""scale-out: poll leases, a shared per-site request budget, poller heartbeats

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 18:00:00

Only new tables: every existing row is kept. Several pollers share the work through `poll_leases`
(one row per source key, leased until `expires_at`), one token bucket per site in `site_budgets`,
and each poller's heartbeat in `pollers` (read by `wzmon status`).
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('poll_leases',
    sa.Column('source_key', sa.String(length=256), nullable=False),
    sa.Column('owner', sa.String(length=128), server_default='', nullable=False),
    sa.Column('token', sa.String(length=32), server_default='', nullable=False),
    sa.Column('leased_at', sa.DateTime(), nullable=True),
    sa.Column('expires_at', sa.DateTime(), nullable=True),
    sa.Column('released_at', sa.DateTime(), nullable=True),
    sa.Column('claims', sa.Integer(), server_default='0', nullable=False),
    sa.Column('takeovers', sa.Integer(), server_default='0', nullable=False),
    sa.Column('last_owner', sa.String(length=128), server_default='', nullable=False),
    sa.PrimaryKeyConstraint('source_key', name=op.f('pk_poll_leases'))
    )
    with op.batch_alter_table('poll_leases', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_poll_leases_expires_at'), ['expires_at'], unique=False)

    op.create_table('site_budgets',
    sa.Column('site', sa.String(length=64), nullable=False),
    sa.Column('per_minute', sa.Float(), nullable=False),
    sa.Column('burst', sa.Integer(), server_default='1', nullable=False),
    sa.Column('tokens', sa.Float(), server_default='0', nullable=False),
    sa.Column('stamp', sa.Float(), server_default='0', nullable=False),
    sa.Column('paused_until', sa.Float(), server_default='0', nullable=False),
    sa.Column('pause_reason', sa.Text(), server_default='', nullable=False),
    sa.Column('granted_total', sa.Integer(), server_default='0', nullable=False),
    sa.Column('version', sa.Integer(), server_default='0', nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('site', name=op.f('pk_site_budgets'))
    )

    op.create_table('pollers',
    sa.Column('poller_id', sa.String(length=128), nullable=False),
    sa.Column('host', sa.String(length=256), server_default='', nullable=False),
    sa.Column('pid', sa.Integer(), nullable=True),
    sa.Column('started_at', sa.DateTime(), nullable=False),
    sa.Column('heartbeat_at', sa.DateTime(), nullable=False),
    sa.Column('state', sa.String(length=32), server_default='running', nullable=False),
    sa.Column('passes', sa.Integer(), server_default='0', nullable=False),
    sa.Column('requests_total', sa.Integer(), server_default='0', nullable=False),
    sa.Column('items_total', sa.Integer(), server_default='0', nullable=False),
    sa.Column('last_pass_at', sa.DateTime(), nullable=True),
    sa.Column('last_error', sa.Text(), server_default='', nullable=False),
    sa.PrimaryKeyConstraint('poller_id', name=op.f('pk_pollers'))
    )
    with op.batch_alter_table('pollers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pollers_heartbeat_at'), ['heartbeat_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('pollers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pollers_heartbeat_at'))
    op.drop_table('pollers')
    op.drop_table('site_budgets')
    with op.batch_alter_table('poll_leases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_poll_leases_expires_at'))
    op.drop_table('poll_leases')
