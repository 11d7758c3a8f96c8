"""Archive packages: each signed BagIt package made for an application, stored as one blob.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05 22:00:42.643216
"""

from alembic import op
import sqlalchemy as sa


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('archive_packages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('source_event_seq', sa.BigInteger(), nullable=True),
    sa.Column('blob_key', sa.String(length=100), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('files', sa.Integer(), nullable=False),
    sa.Column('algorithm', sa.String(length=32), nullable=False),
    sa.Column('key', sa.String(length=16), nullable=False),
    sa.Column('made_by', sa.String(length=64), nullable=False),
    sa.Column('made_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['application_id'], ['applications.id'], name=op.f('fk_archive_packages_application_id_applications')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_archive_packages')),
    sa.UniqueConstraint('application_id', 'source_event_seq', name=op.f('uq_archive_packages_application_id_source_event_seq'))
    )


def downgrade() -> None:
    op.drop_table('archive_packages')
