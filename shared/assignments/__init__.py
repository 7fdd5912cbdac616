# Every process that can change an assignment imports this package: the queue
# stamps' Session events must be registered there, whatever it imports next.
from shared.assignments import queue_stamps as queue_stamps  # noqa: F401
