"""Timers: a person's running clock on one patient's work, stopped into a time entry

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29

- timers: who started it, for which patient and activity, when (UTC), and how it ended (logged
  into entry_id, cancelled, too short, too long). At most one running timer (no stopped_at) per
  person and patient, held by a partial unique index, so two replicas cannot start it twice.
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op


revision: str = '0008'
down_revision: Union[str, None] = '0007'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

RUNNING = "stopped_at IS NULL"


def upgrade() -> None:
    op.create_table(
        'timers',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('staff_id', sa.Integer(), nullable=False),
        sa.Column('patient_id', sa.Integer(), nullable=False),
        sa.Column('activity', sa.String(32), nullable=False),
        sa.Column('program', sa.String(8), nullable=True),
        sa.Column('interactive', sa.Boolean(), nullable=True),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('source', sa.String(16), nullable=False),
        sa.Column('stopped_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('outcome', sa.String(16), nullable=True),
        sa.Column('entry_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], name='fk_timers_staff_id_staff'),
        sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name='fk_timers_patient_id_patients'),
        sa.ForeignKeyConstraint(['entry_id'], ['time_entries.id'], name='fk_timers_entry_id_time_entries'),
        sa.PrimaryKeyConstraint('id', name='pk_timers'),
    )
    op.create_index(
        'uq_timers_running', 'timers', ['staff_id', 'patient_id'], unique=True,
        sqlite_where=sa.text(RUNNING), postgresql_where=sa.text(RUNNING),
    )


def downgrade() -> None:
    op.drop_index('uq_timers_running', table_name='timers')
    op.drop_table('timers')
