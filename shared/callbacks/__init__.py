"""Satisfaction callbacks (回访) on complaint cases, and the rework (重办) they can trigger."""
