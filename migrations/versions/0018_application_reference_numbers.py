"""申报编号: each application's reference number (unique), its series' counters, numbers for those already submitted.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06 02:59:02.049980
"""

import datetime as dt

from alembic import op
import sqlalchemy as sa

from workflow.references import series_of

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def _aware(value: dt.datetime | str) -> dt.datetime:
    """A stored time (SQLite hands back text or a naive value) as UTC."""
    when = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
    return when.replace(tzinfo=dt.UTC) if when.tzinfo is None else when


def _number_the_submitted() -> None:
    """Applications submitted before numbers existed take theirs in order of submission, as they would have."""
    bind = op.get_bind()
    rows = bind.execute(
        sa.text(
            "SELECT a.id, a.district, a.submitted_at, p.code FROM applications a "
            "JOIN programme_versions p ON p.id = a.programme_version_id "
            "WHERE a.submitted_at IS NOT NULL ORDER BY a.submitted_at, a.id"
        )
    ).all()
    last: dict[str, int] = {}
    for app_id, district, submitted_at, code in rows:
        series = series_of(code, district, _aware(submitted_at))
        last[series] = last.get(series, 0) + 1
        bind.execute(
            sa.text("UPDATE applications SET reference = :reference WHERE id = :id"),
            {"reference": f"{series}-{last[series]:04d}", "id": app_id},
        )
    for series, number in last.items():
        bind.execute(
            sa.text("INSERT INTO reference_counters (series, last) VALUES (:series, :last)"),
            {"series": series, "last": number},
        )


def upgrade() -> None:
    op.create_table(
        "reference_counters",
        sa.Column("series", sa.String(length=24), nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("series", name=op.f("pk_reference_counters")),
    )
    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reference", sa.String(length=32), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_applications_reference"), ["reference"])
    _number_the_submitted()


def downgrade() -> None:
    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_applications_reference"), type_="unique")
        batch_op.drop_column("reference")

    op.drop_table("reference_counters")
