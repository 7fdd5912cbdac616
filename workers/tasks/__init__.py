"""Celery tasks, one module per topic; every module here is imported by the worker.

Tasks are thin: they open a session scope, call the domain in shared/, and
return a small JSON-able summary.  Arguments are ids and ISO strings only.
"""
