"""The bottom layer: settings, clock, models, database, errors, audit, access, outbox. Imports nothing above it."""
