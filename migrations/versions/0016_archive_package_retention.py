"""Archive packages: the date until which the blob store holds each write-once (S3 object lock), where it can.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05 23:43:25.502411
"""

from alembic import op
import sqlalchemy as sa


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('archive_packages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('retained_until', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('archive_packages', schema=None) as batch_op:
        batch_op.drop_column('retained_until')
