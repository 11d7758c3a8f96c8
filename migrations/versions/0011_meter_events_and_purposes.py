"""Meter events (replacement, rollover, outage), what a meter measures, its limits, and the snapshot's figures.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05 18:19:35.165962
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('meter_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('meter_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('note', sa.String(length=500), nullable=False),
    sa.Column('recorded_by', sa.String(length=64), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('replaced', 'rollover', 'outage')", name=op.f('ck_meter_events_kind')),
    sa.CheckConstraint('ends_at IS NULL OR ends_at > at', name=op.f('ck_meter_events_ends_after')),
    sa.ForeignKeyConstraint(['meter_id'], ['meters.id'], name=op.f('fk_meter_events_meter_id_meters')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_meter_events'))
    )
    with op.batch_alter_table('meter_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_meter_events_meter_id'), ['meter_id'], unique=False)

    with op.batch_alter_table('evidence_snapshots', schema=None) as batch_op:
        batch_op.add_column(sa.Column('figures', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False, server_default='{}'))

    with op.batch_alter_table('meters', schema=None) as batch_op:
        batch_op.add_column(sa.Column('purpose', sa.String(length=16), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('member_uscc', sa.String(length=18), nullable=True))
        batch_op.add_column(sa.Column('rated_per_hour', sa.Numeric(precision=20, scale=6), nullable=True))
        batch_op.add_column(sa.Column('register_max', sa.Numeric(precision=20, scale=6), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('meters', schema=None) as batch_op:
        batch_op.drop_column('register_max')
        batch_op.drop_column('rated_per_hour')
        batch_op.drop_column('member_uscc')
        batch_op.drop_column('purpose')

    with op.batch_alter_table('evidence_snapshots', schema=None) as batch_op:
        batch_op.drop_column('figures')

    with op.batch_alter_table('meter_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_meter_events_meter_id'))

    op.drop_table('meter_events')
