"""Billing depth: consent per billing practitioner, complex CCM marks with a reason, BHI month totals, CMS fee schedules

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28

- consents.practitioner_id: the billing practitioner a consent was given for (CMS asks for new
  consent when the billing practitioner changes). Existing grants are taken to have been given
  for the patient's billing practitioner of today, the only one the old schema knew.
- patient_month_facts: who marked the month complex, when, and why.
- month_totals: BHI (99484) minutes by track, beside CCM, PCM and RPM.
- ix_time_entries_practitioner: practitioner time with its performer (99491 counts only the
  billing practitioner's own minutes), a partial index of the month's few practitioner rows.
- fee_schedule_amounts: a year's amounts computed from CMS's PPRRVU file.
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op


revision: str = '0006'
down_revision: Union[str, None] = '0005'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('consents') as batch:
        batch.add_column(sa.Column('practitioner_id', sa.Integer(), nullable=True))
        batch.create_foreign_key('fk_consents_practitioner_id_staff', 'staff', ['practitioner_id'], ['id'])
    op.execute(
        "UPDATE consents SET practitioner_id = "
        "(SELECT billing_practitioner_id FROM patients WHERE patients.id = consents.patient_id)"
    )
    with op.batch_alter_table('patient_month_facts') as batch:
        batch.add_column(sa.Column('complex_reason', sa.String(200), nullable=True))
        batch.add_column(sa.Column('marked_by_id', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('marked_at', sa.DateTime(timezone=True), nullable=True))
        batch.create_foreign_key('fk_patient_month_facts_marked_by_id_staff', 'staff', ['marked_by_id'], ['id'])
    with op.batch_alter_table('month_totals') as batch:
        for track in ('practitioner', 'clinical_staff', 'non_clinical'):
            batch.add_column(sa.Column(f'bhi_{track}', sa.Integer(), nullable=False, server_default='0'))
    practitioner_entry = sa.text("track = 'practitioner' AND voided_at IS NULL")
    op.create_index(
        'ix_time_entries_practitioner', 'time_entries', ['service_date', 'patient_id', 'performed_by_id', 'program', 'minutes'],
        sqlite_where=practitioner_entry, postgresql_where=practitioner_entry,
    )
    op.create_table(
        'fee_schedule_amounts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('year', sa.Integer(), nullable=False),
        sa.Column('code', sa.String(8), nullable=False),
        sa.Column('amount', sa.Float(), nullable=False),
        sa.Column('setting', sa.String(16), nullable=False),
        sa.Column('conversion_factor', sa.Float(), nullable=False),
        sa.Column('gpci', sa.String(40), nullable=True),
        sa.Column('source', sa.String(200), nullable=False),
        sa.Column('imported_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('imported_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['imported_by_id'], ['staff.id'], name='fk_fee_schedule_amounts_imported_by_id_staff'),
        sa.PrimaryKeyConstraint('id', name='pk_fee_schedule_amounts'),
        sa.UniqueConstraint('year', 'code', 'setting', name='uq_fee_schedule_amounts_year'),
    )


def downgrade() -> None:
    op.drop_table('fee_schedule_amounts')
    op.drop_index('ix_time_entries_practitioner', table_name='time_entries')
    with op.batch_alter_table('month_totals') as batch:
        for track in ('practitioner', 'clinical_staff', 'non_clinical'):
            batch.drop_column(f'bhi_{track}')
    with op.batch_alter_table('patient_month_facts') as batch:
        batch.drop_constraint('fk_patient_month_facts_marked_by_id_staff', type_='foreignkey')
        batch.drop_column('marked_at')
        batch.drop_column('marked_by_id')
        batch.drop_column('complex_reason')
    with op.batch_alter_table('consents') as batch:
        batch.drop_constraint('fk_consents_practitioner_id_staff', type_='foreignkey')
        batch.drop_column('practitioner_id')
