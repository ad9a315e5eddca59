def dispatch_outbox(*, limit=None) -> int:
    raise NotImplementedError
