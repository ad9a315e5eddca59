"""Admin: admin_notify."""
