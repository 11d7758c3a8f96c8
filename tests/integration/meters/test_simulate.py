"""`manage.py meters simulate`: realistic files whose faults the checks find (issue 12), the same for the same seed."""

from __future__ import annotations

import json

from tests import factories


def test_simulated_files_load_and_the_checks_find_the_faults_put_in_them(runner, tmp_path):
    org = factories.make_org()
    args = ["meters", "simulate", "--from", "2025-06-01", "--to", "2025-12-07", "--meters", "6", "--interval", "60"]
    made = runner.invoke(args=[*args, "--out", str(tmp_path / "a"), "--org", org.uscc, "--load"])
    assert made.exit_code == 0, made.output
    assert "0 refused" in made.output
    checked = runner.invoke(
        args=["meters", "check", "--org", org.uscc, "--from", "2025-06-01", "--to", "2025-12-07", "--json"]
    )
    results = {r["check"]: r for r in json.loads(checked.output)}
    # The 80-hour collection fault of the first machine: a long gap (over 72 hours), shown as a gap.
    assert (results["LONG_GAP"]["value"], results["LONG_GAP"]["passed"]) == ("80.0", False)
    assert [g["meter"] for g in results["LONG_GAP"]["details"]["gaps"]] == ["E-3-0001"]
    # The replaced meter (recorded) and the register that rolled over at its maximum are explained, not faults.
    integrity = results["COUNTER_INTEGRITY"]
    assert (integrity["value"], integrity["passed"]) == ("0", True), integrity["details"]["faults"]
    assert {e["kind"] for e in integrity["details"]["explained"]} == {"replaced", "rollover"}
    assert results["TIER_BALANCE"]["passed"] is True  # sub-units count their machines and 2 % more
    assert results["ACCESS_RATIO_T3"]["value"] == "1.0000"
    assert results["COMPLETENESS"]["passed"] is False  # the gap's days and the patchy machine

    again = runner.invoke(args=[*args, "--out", str(tmp_path / "b")])
    assert again.exit_code == 0
    for name in ("registry.csv", "readings.csv", "events.csv"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_simulate_load_needs_the_unit(runner, tmp_path):
    result = runner.invoke(
        args=["meters", "simulate", "--from", "2025-06-01", "--to", "2025-06-02", "--out", str(tmp_path), "--load"]
    )
    assert result.exit_code == 2 and "--load needs --org" in result.output
