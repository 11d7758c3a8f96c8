"""site visit steps: what the panel noted at 汇报与现场演示 and 勘察提问

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05 08:45:33.839848
"""

from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('site_visits', schema=None) as batch_op:
        batch_op.add_column(sa.Column('presentation_notes', sa.Text(), server_default='', nullable=False))
        batch_op.add_column(sa.Column('inspection_notes', sa.Text(), server_default='', nullable=False))
        batch_op.add_column(sa.Column('steps_noted_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('steps_noted_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_site_visits_steps_noted_by_id_users'), 'users', ['steps_noted_by_id'], ['id'])



def downgrade() -> None:
    with op.batch_alter_table('site_visits', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_site_visits_steps_noted_by_id_users'), type_='foreignkey')
        batch_op.drop_column('steps_noted_at')
        batch_op.drop_column('steps_noted_by_id')
        batch_op.drop_column('inspection_notes')
        batch_op.drop_column('presentation_notes')

