"""Put mail into the demo's local mailbox (INBOUND_MAILDIR), as learners' calendar clients and a mail server
would send it: the worker's every-minute poll then reads it, and the admin's "Inbound mail" shows what each
message did. Used by ./scripts/run; safe to run again (the same answers keep their Message-ID)."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from live_sessions.ical import event_uid
from live_sessions.models import SessionLearner
from notifications.inbound import samples
from notifications.inbound.maildir import open_maildir
from notifications.models import Notification
from notifications.services import dispatch_outbox


class Command(BaseCommand):
    help = "Drop a calendar reply from each of two invited demo learners and one bounce into INBOUND_MAILDIR."

    def handle(self, *args, **options):
        if not settings.INBOUND_MAILDIR:
            raise CommandError("INBOUND_MAILDIR is not set: there is no local mailbox to put mail in.")
        box = open_maildir(settings.INBOUND_MAILDIR)
        invited = list(
            SessionLearner.objects.filter(status=SessionLearner.Status.INVITED, session__status="ready")
            .select_related("learner", "session")
            .order_by("pk")[:2]
        )
        answers = zip(invited, (("outlook", "ACCEPTED"), ("google", "DECLINED")), strict=False)
        for session_learner, (client, partstat) in answers:
            learner = session_learner.learner
            box.add(
                samples.calendar_reply(
                    client,
                    uid=event_uid(session_learner.session_id, learner.pk),
                    attendee=learner.email,
                    partstat=partstat,
                    sequence=session_learner.session.calendar_sequence,
                    organizer=settings.INBOUND_ADDRESS or settings.DEFAULT_FROM_EMAIL,
                    title=session_learner.session.title,
                    name=learner.full_name,
                )
            )
            self.stdout.write(f"{learner.full_name} answers {partstat.lower()} from {client}")
        answered = [sl.learner.email for sl in invited]
        # The demo's first emails go out now (to the console), so that one of their addresses can bounce.
        dispatch_outbox()
        # A mailbox that no longer exists: the address of a learner the demo already wrote to.
        sent = (
            Notification.objects.filter(channel="email", status=Notification.Status.SENT)
            .exclude(to__in=answered)
            .exclude(to="")
            .order_by("pk")
            .first()
        )
        if sent is not None:
            box.add(samples.bounce("postfix", recipient=sent.to, original_message_id=sent.message_id))
            self.stdout.write(f"a bounce: {sent.to} no longer exists")
