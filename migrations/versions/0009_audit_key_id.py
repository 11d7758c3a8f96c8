"""audit chain keyed: each event names the key of its HMAC and the application's version after it

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05 13:00:00.000000

Events already written keep key_id NULL: they verify by plain SHA-256 only up to AUDIT_LEGACY_THROUGH, a boundary
the operator records outside the database at the upgrade (`manage.py audit head` before upgrading prints it).
"""

from alembic import op
import sqlalchemy as sa

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('key_id', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('app_version', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_column('app_version')
        batch_op.drop_column('key_id')
