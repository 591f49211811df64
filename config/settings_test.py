"""Test settings: the same module, switched into test mode before it loads."""

import os
import tempfile

os.environ.setdefault("LOCATIF_TESTING", "1")
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "1")

from config.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# WhiteNoise warns when STATIC_ROOT is missing; the live-server tests serve static files through finders.
STATIC_ROOT.mkdir(exist_ok=True)  # noqa: F405

# Uploaded and generated files (run PDFs…) go to a throw-away folder, never the real media/.
MEDIA_ROOT = Path(tempfile.mkdtemp(prefix="locatif-test-media-"))  # noqa: F405
