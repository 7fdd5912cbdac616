"""Background work: the Celery application (workers.app), its beat schedule and tasks."""
