"""The app killed between commit and relay (issue 16 item 5): fire one transition, and SIGKILL this process the
moment the commit is done, where the outbox would be relayed (`outbox.kick`). Run with the test's DATABASE_URL:

    python -m tests.support.commit_then_die APPLICATION_ID TRIGGER USER_ID
"""

from __future__ import annotations

import os
import signal
import sys
from typing import Any

from web.app import create_app
from workflow import outbox
from workflow.engine import fire


def _never(task: str, kwargs: dict[str, Any]) -> None:
    raise AssertionError(f"{task} was sent before the process died")


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)  # no cleanup, no relay, no exit handlers: as a power cut would


def main(application_id: int, trigger: str, user_id: int) -> None:
    app = create_app()
    with app.app_context():
        outbox.configure(_never, _die)  # the kick after the commit is where the process dies
        fire(application_id, trigger, user_id)
    sys.exit("the transition committed but the process was not killed")


if __name__ == "__main__":
    main(int(sys.argv[1]), sys.argv[2], int(sys.argv[3]))
