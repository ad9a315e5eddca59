"""A learner's new address is reachable at once (the marks name addresses); her old address's mark goes."""

from django.db.models.signals import post_save
from django.dispatch import receiver

from learners.models import Learner

from .marks import clear_for_learner


@receiver(post_save, sender=Learner, dispatch_uid="inbound-clear-marks-of-old-address")
def clear_marks_of_old_address(sender, instance, created, update_fields=None, **kwargs):
    if created or (update_fields is not None and "email" not in update_fields):
        return
    clear_for_learner(instance.pk, keep_address=instance.email)
