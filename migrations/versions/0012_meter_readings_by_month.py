"""On PostgreSQL, meter readings partitioned by month (UTC) of their time: a default partition catches any month
that has none yet, and `meters.partitions` makes each month's own partition before loading into it. SQLite keeps
the one table. On both, a reading no longer names its meter by foreign key: the check per row tripled the cost
of loading (2.6 s against 0.7 s for 480,000 rows, measured on PostgreSQL 15); every path that stores readings
takes the meter ids from the unit's own registry, and meters are never deleted.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05 18:45:00
"""

from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        with op.batch_alter_table("meter_readings") as batch_op:
            batch_op.drop_constraint("fk_meter_readings_meter_id_meters", type_="foreignkey")
        return
    op.execute("ALTER TABLE meter_readings RENAME TO meter_readings_single")
    op.execute("ALTER TABLE meter_readings_single RENAME CONSTRAINT pk_meter_readings TO pk_meter_readings_single")
    op.execute(
        "ALTER TABLE meter_readings_single RENAME CONSTRAINT fk_meter_readings_meter_id_meters "
        "TO fk_meter_readings_single_meter_id"
    )
    op.execute(
        """
        CREATE TABLE meter_readings (
            meter_id INTEGER NOT NULL,
            at TIMESTAMP WITH TIME ZONE NOT NULL,
            value NUMERIC(20, 6) NOT NULL,
            CONSTRAINT pk_meter_readings PRIMARY KEY (meter_id, at)
        ) PARTITION BY RANGE (at)
        """
    )
    op.execute("CREATE TABLE meter_readings_default PARTITION OF meter_readings DEFAULT")
    op.execute("INSERT INTO meter_readings SELECT meter_id, at, value FROM meter_readings_single")
    op.execute("DROP TABLE meter_readings_single")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        with op.batch_alter_table("meter_readings") as batch_op:
            batch_op.create_foreign_key("fk_meter_readings_meter_id_meters", "meters", ["meter_id"], ["id"])
        return
    op.execute("ALTER TABLE meter_readings RENAME TO meter_readings_by_month")
    op.execute("ALTER TABLE meter_readings_by_month RENAME CONSTRAINT pk_meter_readings TO pk_meter_readings_by_month")
    op.execute(
        """
        CREATE TABLE meter_readings (
            meter_id INTEGER NOT NULL,
            at TIMESTAMP WITH TIME ZONE NOT NULL,
            value NUMERIC(20, 6) NOT NULL,
            CONSTRAINT pk_meter_readings PRIMARY KEY (meter_id, at),
            CONSTRAINT fk_meter_readings_meter_id_meters FOREIGN KEY (meter_id) REFERENCES meters (id)
        )
        """
    )
    op.execute("INSERT INTO meter_readings SELECT meter_id, at, value FROM meter_readings_by_month")
    op.execute("DROP TABLE meter_readings_by_month")
