def notify_learners(learners, *, actor, scope):
    raise NotImplementedError
