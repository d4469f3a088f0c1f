"""Watch folders: event sources, card readiness, the supervisor that ingests each card once."""
