"""Every scenario the demo runs, in the order it runs them."""

from __future__ import annotations

from web.demo import acceptance_data_centre, acceptance_enterprise, acceptance_park, monitoring
from web.demo.steps import Scenario


def scenarios() -> list[Scenario]:
    return [
        acceptance_enterprise.enterprise(),
        acceptance_data_centre.data_centre(),
        acceptance_park.park(),
        monitoring.enterprise(),
    ]
