"""Admin: admin_templates."""
