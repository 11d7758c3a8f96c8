"""Budgets per programme and year, awards (proposed, approved, sent back, paid) and the one payment of each.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05 21:21:10.269887
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('budgets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('programme', sa.String(length=64), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('amount', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('reserved', sa.Numeric(precision=14, scale=2), server_default='0', nullable=False),
    sa.Column('committed', sa.Numeric(precision=14, scale=2), server_default='0', nullable=False),
    sa.Column('paid', sa.Numeric(precision=14, scale=2), server_default='0', nullable=False),
    sa.Column('set_by', sa.String(length=64), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('reserved + committed + paid <= amount', name=op.f('ck_budgets_within_budget')),
    sa.CheckConstraint('reserved >= 0 AND committed >= 0 AND paid >= 0', name=op.f('ck_budgets_not_negative')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_budgets')),
    sa.UniqueConstraint('programme', 'year', name=op.f('uq_budgets_programme_year'))
    )
    op.create_table('awards',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('budget_id', sa.Integer(), nullable=False),
    sa.Column('amount', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('computed', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('basis', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('proposed_by_id', sa.Integer(), nullable=True),
    sa.Column('proposed_seq', sa.BigInteger(), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_seq', sa.BigInteger(), nullable=True),
    sa.Column('proposed_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['application_id'], ['applications.id'], name=op.f('fk_awards_application_id_applications')),
    sa.ForeignKeyConstraint(['budget_id'], ['budgets.id'], name=op.f('fk_awards_budget_id_budgets')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_awards_decided_by_id_users')),
    sa.ForeignKeyConstraint(['proposed_by_id'], ['users.id'], name=op.f('fk_awards_proposed_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_awards'))
    )
    with op.batch_alter_table('awards', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_awards_application_id'), ['application_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_awards_budget_id'), ['budget_id'], unique=False)

    op.create_table('payments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('award_id', sa.Integer(), nullable=False),
    sa.Column('amount', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('value_date', sa.Date(), nullable=False),
    sa.Column('bank_reference', sa.String(length=64), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('event_seq', sa.BigInteger(), nullable=True),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['application_id'], ['applications.id'], name=op.f('fk_payments_application_id_applications')),
    sa.ForeignKeyConstraint(['award_id'], ['awards.id'], name=op.f('fk_payments_award_id_awards')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_payments_recorded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payments')),
    sa.UniqueConstraint('application_id', name=op.f('uq_payments_application_id')),
    sa.UniqueConstraint('award_id', name=op.f('uq_payments_award_id'))
    )


def downgrade() -> None:
    op.drop_table('payments')
    with op.batch_alter_table('awards', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_awards_budget_id'))
        batch_op.drop_index(batch_op.f('ix_awards_application_id'))

    op.drop_table('awards')
    op.drop_table('budgets')
