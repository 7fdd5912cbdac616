"""催办 and 挂牌督办 by the coordinator: shared/supervision/service.py."""
