"""Seed 004: whether the system's own messages on a channel wait for an administrator's confirmation.

manage.py channel_confirmation email --automatic    # sent at once (the demo's choice, scripts/run)
manage.py channel_confirmation sms --required       # held until confirmed (the default)
manage.py channel_confirmation                      # prints the setting of each channel
"""

from django.core.management.base import BaseCommand, CommandError

from notifications.door import channels_requiring_confirmation
from notifications.models import ChannelSetting
from notifications.services import set_channel_confirmation


class Command(BaseCommand):
    help = "Show or set, per channel, whether the system's own messages wait for confirmation (seed 004)."

    def add_arguments(self, parser):
        parser.add_argument("channel", nargs="?", choices=[str(c) for c in ChannelSetting.SWITCHABLE])
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument("--automatic", action="store_true", help="Send them at once.")
        mode.add_argument("--required", action="store_true", help="Hold them until an administrator confirms.")

    def handle(self, *args, channel=None, automatic=False, required=False, **options):
        if channel is not None:
            if not (automatic or required):
                raise CommandError("Say --automatic or --required.")
            set_channel_confirmation(channel, required=required)
        for name, held in channels_requiring_confirmation().items():
            if name in ChannelSetting.SWITCHABLE:
                self.stdout.write(f"{name}: {'confirmation required' if held else 'automatic'}")
