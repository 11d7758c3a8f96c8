"""review desks: pre-review and completeness records, expert pool, panel draws, site visits, checklist sheets, answers, photos, panel conclusions; declarations on assignments

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-21 18:22:32.544029
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    
    op.create_table('expert_profiles',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('employer_uscc', sa.String(length=18), nullable=False),
    sa.Column('employer_name', sa.String(length=200), nullable=False),
    sa.Column('district', sa.String(length=16), nullable=True),
    sa.Column('specialities', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_expert_profiles_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_expert_profiles')),
    sa.UniqueConstraint('user_id', name=op.f('uq_expert_profiles_user_id'))
    )
    with op.batch_alter_table('expert_profiles', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_expert_profiles_employer_uscc'), ['employer_uscc'], unique=False)

    op.create_table('expert_relationships',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('expert_id', sa.Integer(), nullable=False),
    sa.Column('uscc', sa.String(length=18), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('declared_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['expert_id'], ['users.id'], name=op.f('fk_expert_relationships_expert_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_expert_relationships')),
    sa.UniqueConstraint('expert_id', 'uscc', name=op.f('uq_expert_relationships_expert_id_uscc'))
    )
    with op.batch_alter_table('expert_relationships', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_expert_relationships_expert_id'), ['expert_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_expert_relationships_uscc'), ['uscc'], unique=False)

    op.create_table('checklist_sheets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('expert_id', sa.Integer(), nullable=False),
    sa.Column('checklist', sa.String(length=80), nullable=False),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('signed_name', sa.String(length=200), nullable=True),
    sa.Column('signature_key', sa.String(length=200), nullable=True),
    sa.Column('signature_sha256', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['application_id'], ['applications.id'], name=op.f('fk_checklist_sheets_application_id_applications')),
    sa.ForeignKeyConstraint(['expert_id'], ['users.id'], name=op.f('fk_checklist_sheets_expert_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_checklist_sheets')),
    sa.UniqueConstraint('application_id', 'expert_id', name=op.f('uq_checklist_sheets_application_id_expert_id'))
    )
    with op.batch_alter_table('checklist_sheets', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_checklist_sheets_application_id'), ['application_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_checklist_sheets_expert_id'), ['expert_id'], unique=False)

    op.create_table('completeness_reviews',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('reviewer_id', sa.Integer(), nullable=True),
    sa.Column('decision', sa.String(length=64), nullable=False),
    sa.Column('items', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('event_seq', sa.BigInteger(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['application_id'], ['applications.id'], name=op.f('fk_completeness_reviews_application_id_applications')),
    sa.ForeignKeyConstraint(['reviewer_id'], ['users.id'], name=op.f('fk_completeness_reviews_reviewer_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_completeness_reviews'))
    )
    with op.batch_alter_table('completeness_reviews', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_completeness_reviews_application_id'), ['application_id'], unique=False)

    op.create_table('panel_conclusions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('result', sa.String(length=8), nullable=False),
    sa.Column('reasons', sa.Text(), nullable=False),
    sa.Column('leader_id', sa.Integer(), nullable=True),
    sa.Column('consensus', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('event_seq', sa.BigInteger(), nullable=True),
    sa.Column('concluded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['application_id'], ['applications.id'], name=op.f('fk_panel_conclusions_application_id_applications')),
    sa.ForeignKeyConstraint(['leader_id'], ['users.id'], name=op.f('fk_panel_conclusions_leader_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_panel_conclusions'))
    )
    with op.batch_alter_table('panel_conclusions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_panel_conclusions_application_id'), ['application_id'], unique=False)

    op.create_table('panel_draws',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=16), nullable=False),
    sa.Column('seed', sa.String(length=64), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('pool', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('pool_digest', sa.String(length=64), nullable=False),
    sa.Column('excluded', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('drawn', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('replaced_user_id', sa.Integer(), nullable=True),
    sa.Column('drawn_by_id', sa.Integer(), nullable=True),
    sa.Column('event_seq', sa.BigInteger(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['application_id'], ['applications.id'], name=op.f('fk_panel_draws_application_id_applications')),
    sa.ForeignKeyConstraint(['drawn_by_id'], ['users.id'], name=op.f('fk_panel_draws_drawn_by_id_users')),
    sa.ForeignKeyConstraint(['replaced_user_id'], ['users.id'], name=op.f('fk_panel_draws_replaced_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_panel_draws')),
    sa.UniqueConstraint('application_id', 'number', name=op.f('uq_panel_draws_application_id_number'))
    )
    op.create_table('prereviews',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('reviewer_id', sa.Integer(), nullable=True),
    sa.Column('decision', sa.String(length=64), nullable=False),
    sa.Column('checks', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('opinion', sa.Text(), nullable=False),
    sa.Column('points', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('event_seq', sa.BigInteger(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['application_id'], ['applications.id'], name=op.f('fk_prereviews_application_id_applications')),
    sa.ForeignKeyConstraint(['reviewer_id'], ['users.id'], name=op.f('fk_prereviews_reviewer_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_prereviews'))
    )
    with op.batch_alter_table('prereviews', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_prereviews_application_id'), ['application_id'], unique=False)

    op.create_table('site_visits',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('visit_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('place', sa.String(length=300), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('scheduled_by_id', sa.Integer(), nullable=True),
    sa.Column('scheduled_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['application_id'], ['applications.id'], name=op.f('fk_site_visits_application_id_applications')),
    sa.ForeignKeyConstraint(['scheduled_by_id'], ['users.id'], name=op.f('fk_site_visits_scheduled_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_site_visits')),
    sa.UniqueConstraint('application_id', name=op.f('uq_site_visits_application_id'))
    )
    op.create_table('checklist_answers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sheet_id', sa.Integer(), nullable=False),
    sa.Column('criterion', sa.String(length=16), nullable=False),
    sa.Column('result', sa.String(length=16), nullable=True),
    sa.Column('score', sa.Numeric(precision=6, scale=2), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['sheet_id'], ['checklist_sheets.id'], name=op.f('fk_checklist_answers_sheet_id_checklist_sheets')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_checklist_answers')),
    sa.UniqueConstraint('sheet_id', 'criterion', name=op.f('uq_checklist_answers_sheet_id_criterion'))
    )
    op.create_table('checklist_photos',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sheet_id', sa.Integer(), nullable=False),
    sa.Column('criterion', sa.String(length=16), nullable=False),
    sa.Column('client_id', sa.String(length=64), nullable=False),
    sa.Column('blob_key', sa.String(length=200), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('taken_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('latitude', sa.Float(), nullable=True),
    sa.Column('longitude', sa.Float(), nullable=True),
    sa.Column('accuracy_m', sa.Float(), nullable=True),
    sa.Column('uploaded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['sheet_id'], ['checklist_sheets.id'], name=op.f('fk_checklist_photos_sheet_id_checklist_sheets')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_checklist_photos')),
    sa.UniqueConstraint('sheet_id', 'client_id', name=op.f('uq_checklist_photos_sheet_id_client_id'))
    )
    with op.batch_alter_table('checklist_photos', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_checklist_photos_sheet_id'), ['sheet_id'], unique=False)

    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('declared_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('conflict', sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column('declaration_note', sa.Text(), nullable=True))

    


def downgrade() -> None:
    
    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.drop_column('declaration_note')
        batch_op.drop_column('conflict')
        batch_op.drop_column('declared_at')

    with op.batch_alter_table('checklist_photos', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_checklist_photos_sheet_id'))

    op.drop_table('checklist_photos')
    op.drop_table('checklist_answers')
    op.drop_table('site_visits')
    with op.batch_alter_table('prereviews', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_prereviews_application_id'))

    op.drop_table('prereviews')
    op.drop_table('panel_draws')
    with op.batch_alter_table('panel_conclusions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_panel_conclusions_application_id'))

    op.drop_table('panel_conclusions')
    with op.batch_alter_table('completeness_reviews', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_completeness_reviews_application_id'))

    op.drop_table('completeness_reviews')
    with op.batch_alter_table('checklist_sheets', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_checklist_sheets_expert_id'))
        batch_op.drop_index(batch_op.f('ix_checklist_sheets_application_id'))

    op.drop_table('checklist_sheets')
    with op.batch_alter_table('expert_relationships', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_expert_relationships_uscc'))
        batch_op.drop_index(batch_op.f('ix_expert_relationships_expert_id'))

    op.drop_table('expert_relationships')
    with op.batch_alter_table('expert_profiles', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_expert_profiles_employer_uscc'))

    op.drop_table('expert_profiles')
    
