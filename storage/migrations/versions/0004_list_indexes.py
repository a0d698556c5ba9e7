"""Indexes for the list questions and reminders: live RPM calls, consent changes by date

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28

ix_time_entries_live_rpm is partial (only RPM calls with the patient that are not voided), so
"which patients had a live call this month" reads a few rows instead of the month's entries.
ix_consents_effective_date finds the consents dated inside a month without reading them all.
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0004'
down_revision: Union[str, None] = '0003'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

LIVE_RPM = "program = 'RPM' AND interactive AND voided_at IS NULL"


def upgrade() -> None:
    op.create_index(
        'ix_time_entries_live_rpm', 'time_entries', ['service_date', 'patient_id'],
        sqlite_where=sa.text(LIVE_RPM), postgresql_where=sa.text(LIVE_RPM),
    )
    op.create_index('ix_consents_effective_date', 'consents', ['effective_date', 'patient_id'])


def downgrade() -> None:
    op.drop_index('ix_consents_effective_date', table_name='consents')
    op.drop_index('ix_time_entries_live_rpm', table_name='time_entries')
