"""The expert pool as the pool page and `manage.py experts list` show it."""

from __future__ import annotations

from typing import Any

from review.models import ExpertProfile


def profile_json(profile: ExpertProfile) -> dict[str, Any]:
    """One expert's profile: who, employer, district, specialities, and whether they may be drawn."""
    return {
        "username": profile.user.username,
        "name": profile.user.display_name or profile.user.username,
        "employer_uscc": profile.employer_uscc,
        "employer_name": profile.employer_name,
        "district": profile.district,
        "specialities": list(profile.specialities),
        "active": profile.active and profile.user.active,
    }
