"""A long schemathesis run against /api/v1, in-process: every 5xx and every answer the document does not give.

    python -m bench.fuzz [--examples 200] [--scenarios 50] [--steps 10] [--database-url URL] [--only TEXT]

The same driver as tests/integration/core/test_fuzz_openapi.py (tests/support/fuzz.py), with many more examples:
each operation on its own, sent as a random identity (anonymous, or an applicant, a district reviewer and the later
desks) and aimed half the time at real applications (a draft, one at the district desk, one on its visit day); then
stateful scenarios along the links schemathesis infers. By default on a temporary SQLite file; `--database-url`
(or `BENCH_DATABASE_URL`) naming a PostgreSQL server runs it on a scratch database dropped at the end.
Prints each failing operation with the case that failed (as a curl command) and exits 1 if there is any.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy.engine import make_url

from web.core import migrate
from workflow import operations
from workflow.db import db


@contextlib.contextmanager
def database(url: str | None, folder: Path) -> Iterator[str]:
    if url and url.startswith("postgresql") and not make_url(url).database:
        with migrate.scratch_postgres(url, prefix="emc_fuzz") as scratch:
            yield scratch
    else:
        yield url or f"sqlite:///{folder / 'fuzz.sqlite3'}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=200, help="generated cases per operation")
    parser.add_argument("--scenarios", type=int, default=50, help="stateful scenarios (0: none)")
    parser.add_argument("--steps", type=int, default=10, help="calls per stateful scenario")
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"))
    parser.add_argument("--only", default="", help="only operations whose label contains this, e.g. 'PATCH'")
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="emc_fuzz_"))
    os.environ.setdefault("EMC_INSTANCE", str(folder))
    with database(args.database_url, folder) as url:
        from tests import factories
        from tests.support import config, fuzz
        from web.app import create_app

        app = create_app(config.in_process(url, folder, testing=False, secret_key="fuzz-secret-key"))
        migrate.upgrade(url)
        with db.transaction() as session:
            operations.seed_programmes(session)
        factories.APP = app
        world = fuzz.build_world(app)
        schema = fuzz.load_schema(app)
        print(f"database: {db.dialect}; applications aimed at: {world.application_ids}")

        started = time.perf_counter()
        found = fuzz.run_operations(world, schema, args.examples, only=lambda label: args.only in label)
        print(f"per operation: {found.calls} calls in {time.perf_counter() - started:.0f} s")
        print("  statuses:", ", ".join(f"{s}×{n}" for s, n in sorted(found.statuses.items())))
        failures = dict(found.failures)
        if args.scenarios:
            started = time.perf_counter()
            stateful = fuzz.run_stateful(world, schema, args.scenarios, args.steps)
            print(f"stateful: {stateful.calls} calls in {time.perf_counter() - started:.0f} s")
            print("  statuses:", ", ".join(f"{s}×{n}" for s, n in sorted(stateful.statuses.items())))
            failures.update(stateful.failures)
    if not failures:
        print("found nothing: no 5xx, every answer as documented")
        return 0
    for label, message in failures.items():
        print(f"\n=== {label}\n{message}")
    print(f"\n{len(failures)} operation(s) failed")
    return 1


if __name__ == "__main__":
    sys.exit(main())
