"""Mail that comes back: the inbound door `receive.receive_email`, calendar replies, bounces,
the IMAP poller and provider webhooks. Kept empty so that the outbox can read `marks` without loading the rest."""
