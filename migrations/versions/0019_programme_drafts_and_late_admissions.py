"""Rounds through pages (issue 15): an administrator's draft copy of a programme version, and late submissions admitted.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06 02:59:38.483086
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('programme_drafts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('based_on_id', sa.Integer(), nullable=False),
    sa.Column('definition', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('budget_year', sa.Integer(), nullable=True),
    sa.Column('budget_amount', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('published_version_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("status IN ('open', 'published', 'discarded')", name=op.f('ck_programme_drafts_status')),
    sa.ForeignKeyConstraint(['based_on_id'], ['programme_versions.id'], name=op.f('fk_programme_drafts_based_on_id_programme_versions')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_programme_drafts_created_by_id_users')),
    sa.ForeignKeyConstraint(['published_version_id'], ['programme_versions.id'], name=op.f('fk_programme_drafts_published_version_id_programme_versions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_programme_drafts'))
    )
    with op.batch_alter_table('programme_drafts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_programme_drafts_code'), ['code'], unique=False)

    op.create_table('late_admissions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('admitted_by_id', sa.Integer(), nullable=False),
    sa.Column('admitted_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['admitted_by_id'], ['users.id'], name=op.f('fk_late_admissions_admitted_by_id_users')),
    sa.ForeignKeyConstraint(['application_id'], ['applications.id'], name=op.f('fk_late_admissions_application_id_applications')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_late_admissions')),
    sa.UniqueConstraint('application_id', name=op.f('uq_late_admissions_application_id'))
    )


def downgrade() -> None:
    op.drop_table('late_admissions')
    with op.batch_alter_table('programme_drafts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_programme_drafts_code'))

    op.drop_table('programme_drafts')
