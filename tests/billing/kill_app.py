"""The project's Celery app with fast restore sweeps, for the worker-kill tests (`celery -A tests.billing.kill_app`).

config.settings reads only `visibility_timeout` (CELERY_VISIBILITY_TIMEOUT) into the Redis transport options.
After a whole-worker crash, kombu hands an unacknowledged message back to the queue on a sweep that runs every
`unacked_restore_interval × unacked_restore_throttle` seconds (10 × 10 by default, RELIABILITY.md §2.1 case E):
here every second, so a redelivery happens about one visibility timeout after the crash. The sweep holds a Redis
mutex that outlives a SIGKILLed holder for `unacked_mutex_expire` seconds (300 by default): shortened as well.
"""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings_test")

from config.celery import app  # noqa: E402

app.conf.broker_transport_options = {
    **app.conf.broker_transport_options,
    "unacked_restore_interval": 1,
    "unacked_restore_throttle": 1,
    "unacked_mutex_expire": 5,
}

__all__ = ["app"]
