"""meter evidence: each unit's meters in their tier tree, the points each tier must have, the meters' readings
keyed by meter and time (UTC), and the frozen evidence snapshots of applications

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 16:38:51.248167
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('meter_requirements',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('tier', sa.Integer(), nullable=False),
    sa.Column('energy_type', sa.String(length=32), nullable=False),
    sa.Column('required', sa.Integer(), nullable=False),
    sa.Column('set_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('required >= 0', name=op.f('ck_meter_requirements_required')),
    sa.CheckConstraint('tier BETWEEN 1 AND 3', name=op.f('ck_meter_requirements_tier')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_meter_requirements_organisation_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_meter_requirements')),
    sa.UniqueConstraint('organisation_id', 'tier', 'energy_type', name=op.f('uq_meter_requirements_organisation_id_tier_energy_type'))
    )
    op.create_table('meters',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('point_code', sa.String(length=64), nullable=False),
    sa.Column('tier', sa.Integer(), nullable=False),
    sa.Column('energy_type', sa.String(length=32), nullable=False),
    sa.Column('unit', sa.String(length=16), nullable=False),
    sa.Column('interval_minutes', sa.Integer(), nullable=False),
    sa.Column('cumulative', sa.Boolean(), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('accuracy_class', sa.String(length=16), nullable=False),
    sa.Column('calibration_due', sa.Date(), nullable=True),
    sa.Column('registered_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('interval_minutes > 0', name=op.f('ck_meters_interval_minutes')),
    sa.CheckConstraint('tier BETWEEN 1 AND 3', name=op.f('ck_meters_tier')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_meters_organisation_id_organisations')),
    sa.ForeignKeyConstraint(['parent_id'], ['meters.id'], name=op.f('fk_meters_parent_id_meters')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_meters')),
    sa.UniqueConstraint('organisation_id', 'point_code', name=op.f('uq_meters_organisation_id_point_code'))
    )
    op.create_table('meter_readings',
    sa.Column('meter_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('value', sa.Numeric(precision=20, scale=6), nullable=False),
    sa.ForeignKeyConstraint(['meter_id'], ['meters.id'], name=op.f('fk_meter_readings_meter_id_meters')),
    sa.PrimaryKeyConstraint('meter_id', 'at', name=op.f('pk_meter_readings'))
    )
    op.create_table('evidence_snapshots',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('taken_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('taken_by', sa.String(length=64), nullable=False),
    sa.Column('reason', sa.String(length=64), nullable=False),
    sa.Column('source_event_seq', sa.BigInteger(), nullable=True),
    sa.Column('rules', sa.String(length=32), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('inputs', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('results', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['application_id'], ['applications.id'], name=op.f('fk_evidence_snapshots_application_id_applications')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_evidence_snapshots')),
    sa.UniqueConstraint('application_id', 'source_event_seq', name=op.f('uq_evidence_snapshots_application_id_source_event_seq'))
    )


def downgrade() -> None:
    op.drop_table('evidence_snapshots')
    op.drop_table('meter_readings')
    op.drop_table('meters')
    op.drop_table('meter_requirements')
