"""Throttling of failed sign-ins, by django-axes."""

from axes.backends import AxesStandaloneBackend


class LoginThrottleBackend(AxesStandaloneBackend):
    """django-axes' check, for sign-ins made over HTTP (the admin's and the trainer pages' login forms).

    A password checked without a request (a script, a test client's `login()`) has no address to count
    against; axes would refuse it outright, so it is left to the next backend."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)
