"""The evidence rules as versioned data (`meters/rules/evidence.v<N>.toml`): thresholds and coefficients, sourced."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from pathlib import Path

RULES_DIR = Path(__file__).with_name("rules")


@dataclass(frozen=True)
class EvidenceRules:
    version: int
    snapshot_on: tuple[str, ...]  # states whose entry takes a snapshot
    snapshot_days: int
    access: dict[int, Decimal]  # tier → required access ratio
    live_share: Decimal
    live_days: int
    fresh_hours: int
    completeness: Decimal
    completeness_tier1: Decimal
    long_gap_hours: int
    online_share: Decimal
    balance_types: tuple[str, ...]
    balance_share: Decimal
    stable_days: int
    stable_months: int
    stable_month_share: Decimal
    calibration_tier1: Decimal
    min_tce: Decimal
    spike_factor: Decimal
    stuck_hours: int
    stuck_points: int
    day_month_share: Decimal
    midnight_minutes: int
    month_days: int
    min_saving_rate: Decimal
    saving_coverage: Decimal
    pue_min_months: int
    pue_retire_above: Decimal
    park_large_tce: Decimal
    park_count_share: Decimal
    park_energy_share: Decimal
    equipment: dict[str, tuple[Decimal, Decimal, Decimal]]  # energy type → tier 1, 2, 3
    coefficients: dict[tuple[str, str], Decimal]  # (energy type, unit) → kgce per unit

    @property
    def label(self) -> str:
        return f"evidence@{self.version}"


@cache
def rules(version: int | None = None) -> EvidenceRules:
    """A version of the rules; the newest when none is named."""
    files = sorted(RULES_DIR.glob("evidence.v*.toml"), key=lambda p: int(p.stem.rsplit("v", 1)[1]))
    if not files:
        raise LookupError(f"no evidence rules in {RULES_DIR}")
    path = files[-1] if version is None else RULES_DIR / f"evidence.v{version}.toml"
    if not path.exists():
        raise LookupError(f"no evidence rules version {version}; known: {', '.join(p.stem for p in files)}")
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    d = Decimal
    return EvidenceRules(
        version=int(data["version"]),
        snapshot_on=tuple(data["snapshot"]["on_entering"]),
        snapshot_days=int(data["snapshot"]["days"]),
        access={1: d(data["access"]["tier1"]), 2: d(data["access"]["tier2"]), 3: d(data["access"]["tier3"])},
        live_share=d(data["access"]["live_share"]),
        live_days=int(data["access"]["live_days"]),
        fresh_hours=int(data["access"]["fresh_hours"]),
        completeness=d(data["completeness"]["share"]),
        completeness_tier1=d(data["completeness"]["tier1_share"]),
        long_gap_hours=int(data["gaps"]["long_hours"]),
        online_share=d(data["online"]["share"]),
        balance_types=tuple(data["tier_balance"]["energy_types"]),
        balance_share=d(data["tier_balance"]["share"]),
        stable_days=int(data["stable_run"]["days"]),
        stable_months=int(data["stable_run"]["months"]),
        stable_month_share=d(data["stable_run"]["month_share"]),
        calibration_tier1=d(data["calibration"]["tier1_share"]),
        min_tce=d(data["annual"]["min_tce"]),
        spike_factor=d(data["integrity"]["spike_factor"]),
        stuck_hours=int(data["integrity"]["stuck_hours"]),
        stuck_points=int(data["integrity"]["stuck_points"]),
        day_month_share=d(data["day_month"]["share"]),
        midnight_minutes=int(data["day_month"]["midnight_minutes"]),
        month_days=int(data["day_month"]["month_days"]),
        min_saving_rate=d(data["saving"]["min_rate"]),
        saving_coverage=d(data["saving"]["coverage"]),
        pue_min_months=int(data["pue"]["min_months"]),
        pue_retire_above=d(data["pue"]["retire_above"]),
        park_large_tce=d(data["park"]["large_tce"]),
        park_count_share=d(data["park"]["count_share"]),
        park_energy_share=d(data["park"]["energy_share"]),
        equipment={k: (d(v[0]), d(v[1]), d(v[2])) for k, v in data["equipment"].items()},
        coefficients={tuple(k.split("/", 1)): d(v) for k, v in data["coefficients"].items()},  # type: ignore[misc]
    )
