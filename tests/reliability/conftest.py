"""The billing tests' real infrastructure (Redis database, Celery worker subprocesses, slowed
statements), shared with the chaos scenarios."""

from tests.billing.conftest import (  # noqa: F401 - fixtures re-exported for tests/reliability
    celery_dispatch,
    celery_workers,
    redis_client,
    redis_url,
    slow_statements,
)
