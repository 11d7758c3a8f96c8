"""Notifications people receive (issue 14): each notification has an occasion (an event or a reminder), the note
addressed to its reader, a deadline and figures; deliveries per channel; preferences per kind; a user's phone and
language.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-05 23:58:50.882434
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('notification_preferences',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('mode', sa.String(length=16), nullable=False),
    sa.CheckConstraint("mode IN ('immediate', 'digest', 'never')", name=op.f('ck_notification_preferences_mode')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_notification_preferences_user_id_users')),
    sa.PrimaryKeyConstraint('user_id', 'kind', name=op.f('pk_notification_preferences'))
    )
    op.create_table('deliveries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('notification_id', sa.Integer(), nullable=True),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('occasion', sa.String(length=120), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('address', sa.String(length=254), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('digest_id', sa.Integer(), nullable=True),
    sa.Column('message_id', sa.String(length=200), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("channel IN ('email', 'sms', 'webhook')", name=op.f('ck_deliveries_channel')),
    sa.CheckConstraint("status IN ('pending', 'sending', 'sent', 'held', 'digested', 'dead', 'skipped')", name=op.f('ck_deliveries_status')),
    sa.ForeignKeyConstraint(['digest_id'], ['deliveries.id'], name=op.f('fk_deliveries_digest_id_deliveries')),
    sa.ForeignKeyConstraint(['notification_id'], ['notifications.id'], name=op.f('fk_deliveries_notification_id_notifications')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_deliveries_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_deliveries')),
    sa.UniqueConstraint('occasion', 'user_id', 'channel', name=op.f('uq_deliveries_occasion_user_id_channel'))
    )
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_deliveries_notification_id'), ['notification_id'], unique=False)
        batch_op.create_index('ix_deliveries_status', ['status', 'next_attempt_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_deliveries_user_id'), ['user_id'], unique=False)

    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('occasion', sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column('note', sa.Text(), server_default='', nullable=False))
        batch_op.add_column(sa.Column('due_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('data', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), server_default='{}', nullable=False))
    # Every notification so far was of an audited event.
    op.execute("UPDATE notifications SET occasion = 'event:' || CAST(event_seq AS VARCHAR(20))")
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.alter_column('occasion', existing_type=sa.String(length=120), nullable=False)
        batch_op.alter_column('application_id',
               existing_type=sa.INTEGER(),
               nullable=True)
        batch_op.alter_column('event_seq',
               existing_type=sa.BIGINT(),
               nullable=True)
        batch_op.drop_constraint(batch_op.f('uq_notifications_event_seq_user_id'), type_='unique')
        batch_op.create_index('ix_notifications_user_unread', ['user_id', 'read_at'], unique=False)
        batch_op.create_unique_constraint(batch_op.f('uq_notifications_occasion_user_id'), ['occasion', 'user_id'])

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('phone', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('language', sa.String(length=8), server_default='zh', nullable=False))
        batch_op.create_check_constraint(op.f('ck_users_language'), "language IN ('zh', 'en')")



def downgrade() -> None:
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_deliveries_user_id'))
        batch_op.drop_index('ix_deliveries_status')
        batch_op.drop_index(batch_op.f('ix_deliveries_notification_id'))

    op.drop_table('deliveries')
    op.drop_table('notification_preferences')

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_users_language'), type_='check')
        batch_op.drop_column('language')
        batch_op.drop_column('phone')

    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_notifications_occasion_user_id'), type_='unique')
        batch_op.drop_index('ix_notifications_user_unread')
    op.execute("DELETE FROM notifications WHERE event_seq IS NULL")  # reminders had no place before
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.create_unique_constraint(batch_op.f('uq_notifications_event_seq_user_id'), ['event_seq', 'user_id'])
        batch_op.alter_column('event_seq',
               existing_type=sa.BIGINT(),
               nullable=False)
        batch_op.alter_column('application_id',
               existing_type=sa.INTEGER(),
               nullable=False)
        batch_op.drop_column('data')
        batch_op.drop_column('due_on')
        batch_op.drop_column('note')
        batch_op.drop_column('occasion')
