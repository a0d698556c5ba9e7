"""RPM device codes: episodes of monitoring and the days devices sent data

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29

- rpm_episodes: an RPM episode per patient, from its start (set-up and education, 99453) to its
  last day; at most one open (no end date) per patient, held by a partial unique index.
- rpm_readings: one row per patient, local day and device from a vendor's export; the unique key
  makes a re-import add nothing. Device codes (99454, 99445) count distinct days per 30-day period.
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op


revision: str = '0007'
down_revision: Union[str, None] = '0006'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

OPEN_EPISODE = "end_date IS NULL"


def upgrade() -> None:
    op.create_table(
        'rpm_episodes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('patient_id', sa.Integer(), nullable=False),
        sa.Column('start_date', sa.Date(), nullable=False),
        sa.Column('end_date', sa.Date(), nullable=True),
        sa.Column('device', sa.String(120), nullable=True),
        sa.Column('started_by_id', sa.Integer(), nullable=True),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('ended_by_id', sa.Integer(), nullable=True),
        sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name='fk_rpm_episodes_patient_id_patients'),
        sa.ForeignKeyConstraint(['started_by_id'], ['staff.id'], name='fk_rpm_episodes_started_by_id_staff'),
        sa.ForeignKeyConstraint(['ended_by_id'], ['staff.id'], name='fk_rpm_episodes_ended_by_id_staff'),
        sa.PrimaryKeyConstraint('id', name='pk_rpm_episodes'),
    )
    op.create_index('ix_rpm_episodes_patient_start', 'rpm_episodes', ['patient_id', 'start_date'])
    op.create_index(
        'uq_rpm_episodes_open', 'rpm_episodes', ['patient_id'], unique=True,
        sqlite_where=sa.text(OPEN_EPISODE), postgresql_where=sa.text(OPEN_EPISODE),
    )
    op.create_table(
        'rpm_readings',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('patient_id', sa.Integer(), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('device_id', sa.String(64), nullable=False),
        sa.Column('source', sa.String(200), nullable=False),
        sa.Column('imported_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name='fk_rpm_readings_patient_id_patients'),
        sa.PrimaryKeyConstraint('id', name='pk_rpm_readings'),
        sa.UniqueConstraint('patient_id', 'day', 'device_id', name='uq_rpm_readings_key'),
    )


def downgrade() -> None:
    op.drop_table('rpm_readings')
    op.drop_index('uq_rpm_episodes_open', table_name='rpm_episodes')
    op.drop_index('ix_rpm_episodes_patient_start', table_name='rpm_episodes')
    op.drop_table('rpm_episodes')
