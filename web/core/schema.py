"""Every model module, imported so the one metadata knows all tables (Alembic, tests)."""

from notifications import models as _notifications  # noqa: F401
from review import models as _review  # noqa: F401
from storage import models as _storage  # noqa: F401
from web.core import models as _web  # noqa: F401
from workflow import accounts as _accounts  # noqa: F401
from workflow import models as _workflow  # noqa: F401
from workflow.db import Base

metadata = Base.metadata
