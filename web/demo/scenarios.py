"""Every scenario the demo runs, in the order it runs them."""

from __future__ import annotations

from web.demo import acceptance, monitoring
from web.demo.steps import Scenario


def scenarios() -> list[Scenario]:
    return [acceptance.enterprise(), acceptance.data_centre(), acceptance.park(), monitoring.enterprise()]
