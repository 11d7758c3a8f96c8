"""key energy-using unit lists (重点用能单位名单) per year, imported by the market regulator

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05 09:30:00.000000
"""

from alembic import op
import sqlalchemy as sa

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('key_energy_units',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uscc', sa.String(length=18), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('imported_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('imported_by', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_key_energy_units')),
    sa.UniqueConstraint('uscc', 'year', name=op.f('uq_key_energy_units_uscc_year'))
    )
    with op.batch_alter_table('key_energy_units', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_key_energy_units_year'), ['year'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('key_energy_units', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_key_energy_units_year'))

    op.drop_table('key_energy_units')
