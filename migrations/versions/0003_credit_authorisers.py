"""credit authorisers: who authorises an application's credit query (附件3), the ID number sealed

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21 17:31:27.060011
"""

from alembic import op
import sqlalchemy as sa

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('credit_authorisers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('person_name', sa.String(length=100), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('id_card_sealed', sa.Text(), nullable=False),
    sa.Column('id_card_masked', sa.String(length=18), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['application_id'], ['applications.id'], name=op.f('fk_credit_authorisers_application_id_applications')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_credit_authorisers_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_authorisers'))
    )
    with op.batch_alter_table('credit_authorisers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_credit_authorisers_application_id'), ['application_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('credit_authorisers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_credit_authorisers_application_id'))

    op.drop_table('credit_authorisers')
