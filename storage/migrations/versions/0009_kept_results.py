"""Kept results: the billing engine's answer per patient-month, and triggers that mark it stale

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-28

- kept_results: one row per patient, month and last day counted (bot/kept.py refreshes it).
- patients.results_version: bumped by triggers on every change the engine reads, in the same
  transaction as the change, so no write path (chat, Slack, CLI, an import, a future one) can
  forget to mark a kept result stale. A staff member's new name bumps the patients whose kept
  report rows name them (billing practitioner, complex mark).
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op


revision: str = '0009'
down_revision: Union[str, None] = '0008'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# Every table the engine's facts read that hangs off a patient. (month_totals is derived from
# time_entries in the same transaction, so the entries' triggers cover it.)
PATIENT_TABLES = ('time_entries', 'consents', 'patient_month_facts', 'rpm_episodes', 'rpm_readings')

BUMP = "UPDATE patients SET results_version = results_version + 1 WHERE id"
# A kept report row names the billing practitioner and who marked the month complex.
NAMED_BY = "SELECT id FROM patients WHERE billing_practitioner_id = NEW.id UNION SELECT patient_id FROM patient_month_facts WHERE marked_by_id = NEW.id"

POSTGRES_FUNCTIONS = """
CREATE FUNCTION ccmbot_results_stale() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        UPDATE patients SET results_version = results_version + 1 WHERE id = OLD.patient_id;
    END IF;
    IF TG_OP = 'INSERT' OR NEW.patient_id IS DISTINCT FROM OLD.patient_id THEN
        UPDATE patients SET results_version = results_version + 1 WHERE id = NEW.patient_id;
    END IF;
    RETURN NULL;
END $$;
CREATE FUNCTION ccmbot_patient_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.results_version := OLD.results_version + 1;
    RETURN NEW;
END $$;
CREATE FUNCTION ccmbot_staff_renamed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE patients SET results_version = results_version + 1 WHERE id IN (%s);
    RETURN NULL;
END $$;
""" % NAMED_BY


def _sqlite_triggers() -> list[str]:
    out = []
    for table in PATIENT_TABLES:
        out += [
            f"CREATE TRIGGER {table}_results_stale_insert AFTER INSERT ON {table} BEGIN {BUMP} = NEW.patient_id; END",
            f"CREATE TRIGGER {table}_results_stale_update AFTER UPDATE ON {table} BEGIN {BUMP} IN (OLD.patient_id, NEW.patient_id); END",
            f"CREATE TRIGGER {table}_results_stale_delete AFTER DELETE ON {table} BEGIN {BUMP} = OLD.patient_id; END",
        ]
    # A change to the patient's own row (conditions, dates, programs, practitioner, active) other
    # than the version itself; the inner UPDATE does not fire it again (its WHEN is false).
    out.append(
        "CREATE TRIGGER patients_results_stale AFTER UPDATE ON patients "
        f"WHEN NEW.results_version = OLD.results_version BEGIN {BUMP} = NEW.id; END"
    )
    out.append(f"CREATE TRIGGER staff_results_stale AFTER UPDATE OF name ON staff WHEN NEW.name IS NOT OLD.name BEGIN {BUMP} IN ({NAMED_BY}); END")
    return out


def _postgres_triggers() -> list[str]:
    out = [POSTGRES_FUNCTIONS]
    for table in PATIENT_TABLES:
        out.append(
            f"CREATE TRIGGER {table}_results_stale AFTER INSERT OR UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION ccmbot_results_stale()"
        )
    out.append(
        "CREATE TRIGGER patients_results_stale BEFORE UPDATE ON patients FOR EACH ROW "
        "WHEN (NEW.results_version = OLD.results_version) EXECUTE FUNCTION ccmbot_patient_changed()"
    )
    out.append(
        "CREATE TRIGGER staff_results_stale AFTER UPDATE OF name ON staff FOR EACH ROW "
        "WHEN (NEW.name IS DISTINCT FROM OLD.name) EXECUTE FUNCTION ccmbot_staff_renamed()"
    )
    return out


def upgrade() -> None:
    op.add_column('patients', sa.Column('results_version', sa.Integer(), server_default='0', nullable=False))
    op.create_table(
        'kept_results',
        sa.Column('month', sa.Date(), nullable=False),
        sa.Column('through', sa.Date(), nullable=False),
        sa.Column('patient_id', sa.Integer(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('basis', sa.String(16), nullable=False),
        sa.Column('billable', sa.Boolean(), nullable=False),
        sa.Column('total', sa.Float(), nullable=False),
        sa.Column('estimated', sa.Boolean(), nullable=False),
        sa.Column('codes', sa.Text(), nullable=False),
        sa.Column('blockers', sa.Text(), nullable=False),
        sa.Column('report', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name='fk_kept_results_patient_id_patients', ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('month', 'through', 'patient_id', name='pk_kept_results'),
    )
    dialect = op.get_bind().dialect.name
    for statement in _postgres_triggers() if dialect == 'postgresql' else _sqlite_triggers():
        op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == 'postgresql':
        for table in PATIENT_TABLES:
            op.execute(f"DROP TRIGGER {table}_results_stale ON {table}")
        op.execute("DROP TRIGGER patients_results_stale ON patients")
        op.execute("DROP TRIGGER staff_results_stale ON staff")
        op.execute("DROP FUNCTION ccmbot_staff_renamed()")
        op.execute("DROP FUNCTION ccmbot_results_stale()")
        op.execute("DROP FUNCTION ccmbot_patient_changed()")
    else:
        for table in PATIENT_TABLES:
            for kind in ('insert', 'update', 'delete'):
                op.execute(f"DROP TRIGGER {table}_results_stale_{kind}")
        op.execute("DROP TRIGGER patients_results_stale")
        op.execute("DROP TRIGGER staff_results_stale")
    op.drop_table('kept_results')
    with op.batch_alter_table('patients') as batch:
        batch.drop_column('results_version')
