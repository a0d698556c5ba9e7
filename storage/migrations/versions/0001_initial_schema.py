"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-27
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0001'
down_revision: Union[str, None] = None
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('processed_slack_events',
    sa.Column('event_id', sa.String(length=64), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('event_id', name=op.f('pk_processed_slack_events'))
    )
    op.create_table('reminder_deliveries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('period', sa.String(length=40), nullable=False),
    sa.Column('target', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('error', sa.String(length=400), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reminder_deliveries')),
    sa.UniqueConstraint('key', name=op.f('uq_reminder_deliveries_key'))
    )
    op.create_table('staff',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slack_user_id', sa.String(length=32), nullable=True),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('is_admin', sa.Boolean(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staff')),
    sa.UniqueConstraint('slack_user_id', name=op.f('uq_staff_slack_user_id'))
    )
    op.create_table('audit_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('entity', sa.String(length=40), nullable=False),
    sa.Column('entity_id', sa.String(length=64), nullable=True),
    sa.Column('before', sa.JSON(), nullable=True),
    sa.Column('after', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['staff.id'], name=op.f('fk_audit_events_actor_id_staff')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_events'))
    )
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.create_index('ix_audit_events_entity', ['entity', 'entity_id'], unique=False)

    op.create_table('month_closes',
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('is_closed', sa.Boolean(), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_by_id', sa.Integer(), nullable=True),
    sa.Column('reopened_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reopened_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['closed_by_id'], ['staff.id'], name=op.f('fk_month_closes_closed_by_id_staff')),
    sa.ForeignKeyConstraint(['reopened_by_id'], ['staff.id'], name=op.f('fk_month_closes_reopened_by_id_staff')),
    sa.PrimaryKeyConstraint('month', name=op.f('pk_month_closes'))
    )
    op.create_table('patients',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('label', sa.String(length=200), nullable=True),
    sa.Column('billing_practitioner_id', sa.Integer(), nullable=True),
    sa.Column('chronic_conditions', sa.Integer(), nullable=False),
    sa.Column('care_plan_date', sa.Date(), nullable=True),
    sa.Column('initiating_visit_date', sa.Date(), nullable=True),
    sa.Column('programs', sa.String(length=40), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['billing_practitioner_id'], ['staff.id'], name=op.f('fk_patients_billing_practitioner_id_staff')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_patients')),
    sa.UniqueConstraint('key', name=op.f('uq_patients_key'))
    )
    op.create_table('consents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('program', sa.String(length=8), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('method', sa.String(length=16), nullable=True),
    sa.Column('effective_date', sa.Date(), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name=op.f('fk_consents_patient_id_patients')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['staff.id'], name=op.f('fk_consents_recorded_by_id_staff')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consents'))
    )
    with op.batch_alter_table('consents', schema=None) as batch_op:
        batch_op.create_index('ix_consents_patient_program', ['patient_id', 'program', 'effective_date'], unique=False)

    op.create_table('month_totals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('ccm_practitioner', sa.Integer(), nullable=False),
    sa.Column('ccm_clinical_staff', sa.Integer(), nullable=False),
    sa.Column('ccm_non_clinical', sa.Integer(), nullable=False),
    sa.Column('pcm_practitioner', sa.Integer(), nullable=False),
    sa.Column('pcm_clinical_staff', sa.Integer(), nullable=False),
    sa.Column('pcm_non_clinical', sa.Integer(), nullable=False),
    sa.Column('rpm_practitioner', sa.Integer(), nullable=False),
    sa.Column('rpm_clinical_staff', sa.Integer(), nullable=False),
    sa.Column('rpm_non_clinical', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name=op.f('fk_month_totals_patient_id_patients')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_month_totals')),
    sa.UniqueConstraint('month', 'patient_id', name='uq_month_totals_key')
    )
    op.create_table('patient_month_facts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('complex_mdm', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name=op.f('fk_patient_month_facts_patient_id_patients')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_patient_month_facts')),
    sa.UniqueConstraint('patient_id', 'month', name='uq_patient_month_facts')
    )
    op.create_table('time_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('performed_by_id', sa.Integer(), nullable=False),
    sa.Column('logged_by_id', sa.Integer(), nullable=False),
    sa.Column('minutes', sa.Integer(), nullable=False),
    sa.Column('service_date', sa.Date(), nullable=False),
    sa.Column('activity', sa.String(length=32), nullable=False),
    sa.Column('program', sa.String(length=8), nullable=False),
    sa.Column('track', sa.String(length=20), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('source_group', sa.String(length=200), nullable=False),
    sa.Column('source_key', sa.String(length=240), nullable=False),
    sa.Column('source_link', sa.String(length=400), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('voided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('voided_by_id', sa.Integer(), nullable=True),
    sa.Column('void_reason', sa.String(length=200), nullable=True),
    sa.ForeignKeyConstraint(['logged_by_id'], ['staff.id'], name=op.f('fk_time_entries_logged_by_id_staff')),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name=op.f('fk_time_entries_patient_id_patients')),
    sa.ForeignKeyConstraint(['performed_by_id'], ['staff.id'], name=op.f('fk_time_entries_performed_by_id_staff')),
    sa.ForeignKeyConstraint(['voided_by_id'], ['staff.id'], name=op.f('fk_time_entries_voided_by_id_staff')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_time_entries')),
    sa.UniqueConstraint('source_key', name=op.f('uq_time_entries_source_key'))
    )
    with op.batch_alter_table('time_entries', schema=None) as batch_op:
        batch_op.create_index('ix_time_entries_month', ['service_date', 'voided_at', 'patient_id', 'program', 'track', 'minutes'], unique=False)
        batch_op.create_index('ix_time_entries_patient_date', ['patient_id', 'service_date'], unique=False)
        batch_op.create_index('ix_time_entries_performer_date', ['performed_by_id', 'service_date'], unique=False)
        batch_op.create_index('ix_time_entries_source_group', ['source_group'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('time_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_time_entries_source_group')
        batch_op.drop_index('ix_time_entries_performer_date')
        batch_op.drop_index('ix_time_entries_patient_date')
        batch_op.drop_index('ix_time_entries_month')

    op.drop_table('time_entries')
    op.drop_table('patient_month_facts')
    op.drop_table('month_totals')
    with op.batch_alter_table('consents', schema=None) as batch_op:
        batch_op.drop_index('ix_consents_patient_program')

    op.drop_table('consents')
    op.drop_table('patients')
    op.drop_table('month_closes')
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_events_entity')

    op.drop_table('audit_events')
    op.drop_table('staff')
    op.drop_table('reminder_deliveries')
    op.drop_table('processed_slack_events')
