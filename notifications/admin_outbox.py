"""Admin: admin_outbox."""
