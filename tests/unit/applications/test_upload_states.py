"""Where the applicant may add material comes from the programme's definition, not from a state name in code."""

from __future__ import annotations

from applications.attachments import supplement_states, upload_states
from workflow.definitions import shipped


def _newest(code: str):  # type: ignore[no-untyped-def]
    return max((d for d in shipped() if d.code == code), key=lambda d: d.version)


def test_the_acceptance_programme_takes_material_while_a_supplement_request_is_open():
    definition = _newest("emc-acceptance")
    # Seed 002 §五(一): the commission asks for 补充材料; the applicant answers them (the `supply` transition).
    supply = next(t for t in definition.transitions if t.trigger == "supply")
    assert supplement_states(definition) == supply.sources
    assert upload_states(definition) == (*definition.editable, *supply.sources)


def test_a_programme_without_supplement_requests_takes_material_only_while_editable():
    definition = _newest("monitoring-fund")
    assert not any(t.trigger == "supply" for t in definition.transitions)
    assert supplement_states(definition) == ()
    assert upload_states(definition) == tuple(definition.editable)
