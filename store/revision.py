"""The schema revision a store must be at, and the table that records it (no SQLAlchemy here: store/reading.py
checks it without loading it; store/schema.py creates and migrates).

HEAD is the newest revision in store/migrations/versions: set it to a new migration's revision id (see
store/schema.py for the rest of adding one).
"""

# The version table keeps the name the planning store gave it when it was the only one with migrations, so
# that planning databases made since then carry on from their revision (0001, 0002).
VERSION_TABLE = "planning_alembic_version"
HEAD = "0006"  # the newest revision in store/migrations/versions
