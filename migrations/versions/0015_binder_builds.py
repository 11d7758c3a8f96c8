"""Binder builds: an application's binder asked for on a page, built by a worker with its progress.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05 22:18:57.014429
"""

from alembic import op
import sqlalchemy as sa


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('binder_builds',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('done', sa.Integer(), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('blob_key', sa.String(length=100), nullable=True),
    sa.Column('sha256', sa.String(length=64), nullable=True),
    sa.Column('size', sa.BigInteger(), nullable=True),
    sa.Column('error', sa.Text(), nullable=False),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['application_id'], ['applications.id'], name=op.f('fk_binder_builds_application_id_applications')),
    sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'], name=op.f('fk_binder_builds_requested_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_binder_builds'))
    )
    with op.batch_alter_table('binder_builds', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_binder_builds_application_id'), ['application_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('binder_builds', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_binder_builds_application_id'))

    op.drop_table('binder_builds')
