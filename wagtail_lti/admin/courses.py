"""Admin registrations (filled in by its area)."""
