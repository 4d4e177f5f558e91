"""Extensions, created unbound and attached to the app in ``create_app``."""

from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect

from lms.models.base import Base, include_in_migrations, render_migration_item

db = SQLAlchemy(model_class=Base)
migrate = Migrate(
    render_as_batch=True,
    compare_type=True,
    render_item=render_migration_item,
    include_object=include_in_migrations,
)
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
# Storage and switches come from the RATELIMIT_* settings (lms/config.py): Redis when REDIS_URL
# is set, so that every app server counts the same attempts.
limiter = Limiter(key_func=get_remote_address)
