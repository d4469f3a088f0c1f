"""Every table of the store, on one MetaData: the rushes catalogue, the proxies, the planning.

These describe the schema the migrations in store/migrations make, exactly: a new database is created from
them and stamped at HEAD (store/schema.py), and tests prove it equal to the one every migration makes
(tests/store/test_store_created.py). An existing database is only ever changed by a migration. The domain
modules that own each table's meaning read and write them: ingest/catalogue.py (ingests, media),
ingest/proxies/store.py (proxies), planning/store.py (productions, stages, stage_events, session_reports,
digests), planning/money (quotes, overrun_alerts).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

# -- the rushes catalogue -------------------------------------------------------------------------------------

ingests = Table(
    "ingests",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("production", String(200), nullable=False, index=True),
    Column("source", Text, nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True)),
    Column("files", Integer, nullable=False, default=0),
    Column("new_files", Integer, nullable=False, default=0),
    Column("skipped", Integer, nullable=False, default=0),
    Column("errors", Integer, nullable=False, default=0),
    Column("warnings", Integer, nullable=False, default=0),
    Column("report_json", Text),
    Column("report_html", Text),
)

media = Table(
    "media",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("production", String(200), nullable=False),
    Column("path", Text, nullable=False),
    Column("card", Text, nullable=False),  # the card (or folder) root it came in with
    Column("relpath", Text, nullable=False),
    Column("role", String(20), nullable=False, default="original"),  # original | proxy
    Column("source_id", Integer, ForeignKey("media.id")),  # for a proxy: its original
    Column("kind", String(20), nullable=False),  # media | sidecar | unreadable
    Column("size", BigInteger, nullable=False),
    Column("mtime_ns", BigInteger, nullable=False),
    Column("hash_algorithm", String(20)),
    Column("hash", String(128)),
    Column("clip_name", String(500), index=True),
    Column("reel", String(200), index=True),
    Column("start_frames", BigInteger),
    Column("duration_frames", BigInteger),
    Column("rate", String(32)),
    Column("drop_frame", Boolean),
    Column("worst_severity", String(10)),
    Column("status", String(20), nullable=False, default="ok"),  # ok | changed | missing
    Column("media_json", Text, nullable=False),
    Column("ingest_id", Integer, ForeignKey("ingests.id")),
    Column("first_seen", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("production", "path", name="uq_media_production_path"),
    Index("ix_media_production_reel", "production", "reel"),
    Index("ix_media_production_start", "production", "start_frames"),  # conform's search by timecode
    Index("ix_media_production_hash", "production", "hash"),  # identical copies (conform counts them once)
)

# Every name an edit list may use for a media row (store/keys.py: card, reel, camera roll, file and clip names,
# upper-cased), with what conform filters on copied beside it (written with the row by ingest/catalogue.py):
# conform selects the rows an edit list names through it, not the whole catalogue.
media_keys = Table(
    "media_keys",
    metadata,
    Column("media_id", Integer, ForeignKey("media.id"), primary_key=True),
    Column("kind", String(8), primary_key=True),  # reel (card, reel, camera roll) | name (file, clip, camera clip)
    Column("key", String(200), primary_key=True),
    Column("production", String(200), nullable=False),
    Column("original", Boolean, nullable=False),  # the row's role is original (else a proxy)
    Column("usable", Boolean, nullable=False),  # a media file still there (kind media, status not missing)
    Column("rate", String(32)),  # the row's timecode, copied: conform narrows by range from the index alone
    Column("drop_frame", Boolean),
    Column("start_frames", BigInteger),
    Column("end_frames", BigInteger),
    Index("ix_media_keys_lookup", "production", "key", "kind", "usable", "original", "rate", "drop_frame",
          "start_frames", "end_frames", "media_id"),
)

# -- proxies: which verified proxy was made from which source content with which preset ----------------------

proxies = Table(
    "proxies",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("production", String(200), nullable=False),
    Column("preset", String(200), nullable=False),
    Column("fingerprint", String(32), nullable=False),
    Column("source_path", Text, nullable=False),
    Column("source_hash_algorithm", String(20), nullable=False),
    Column("source_hash", String(128), nullable=False),
    Column("source_media_id", Integer),  # the original's row in media, when it was ingested
    Column("proxy_path", Text, nullable=False),
    Column("proxy_media_id", Integer),
    Column("size", BigInteger, nullable=False),
    Column("mtime_ns", BigInteger, nullable=False),
    Column("encoder", String(64)),
    Column("made_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("production", "proxy_path", name="uq_proxies_production_path"),
)

# -- planning -------------------------------------------------------------------------------------------------

productions = Table(
    "productions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("template", String(200)),
    Column("delivery_profile", String(200)),
    Column("hours_per_day", Float, nullable=False, server_default="8"),
    Column("planned_start", Date),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("revision", Integer, nullable=False, server_default="0"),
)

stages = Table(
    "stages",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("production", String(200), nullable=False),
    Column("stage", String(40), nullable=False),
    Column("state", String(20), nullable=False),
    Column("note", Text),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("label", String(200)),
    Column("position", Integer),
    Column("planned_start", Date),
    Column("planned_end", Date),
    Column("planned_minutes", Integer),
    Column("responsible", String(200)),
    Column("depends_on", Text),
    Column("actual_start", Date),
    Column("actual_end", Date),
    Column("evidence", Text),
    Column("revision", Integer, nullable=False, server_default="0"),
    UniqueConstraint("production", "stage", name="uq_stage"),
)

stage_events = Table(
    "stage_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("production", String(200), nullable=False, index=True),
    Column("stage", String(40), nullable=False),
    Column("state", String(20), nullable=False),
    Column("note", Text),
    Column("evidence", Text),  # JSON: which run, which report
    Column("at", DateTime(timezone=True), nullable=False, index=True),
)

session_reports = Table(
    "session_reports",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("production", String(200), nullable=False),
    Column("stage", String(40), nullable=False),
    Column("technician", String(200), nullable=False),
    Column("work_date", Date, nullable=False),
    Column("minutes", Integer, nullable=False),
    Column("done", Text, nullable=False),
    Column("incidents", Text),
    Column("source", Text),
    Column("fingerprint", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("review", String(20)),  # None (pending), accepted, corrected, rejected: the coordinator's (web page)
    Column("reviewed_by", String(200)),
    Column("reviewed_at", DateTime(timezone=True)),
    Column("original_minutes", Integer),  # the hours the technician gave, kept when corrected
    UniqueConstraint("production", "fingerprint", name="uq_session_report"),
    Index("ix_session_reports_production_stage", "production", "stage"),
)

digests = Table(
    "digests",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("path", Text),
    Column("sent_to", Text),
)

# -- money (planning/money) -----------------------------------------------------------------------------------

# One row per version of a production's quote; its lines are JSON with amounts as decimal strings.
quotes = Table(
    "quotes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("production", String(200), nullable=False),
    Column("version", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("reason", Text, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("rates", Text, nullable=False),  # the rates file's name and path it was priced with
    Column("contingency_percent", String(20), nullable=False),
    Column("lines", Text, nullable=False),
    Column("total", String(40), nullable=False),
    UniqueConstraint("production", "version", name="uq_quote_version"),
)

# A forecast crossing the quote by the threshold: one row per crossing (cleared when it falls back under).
overrun_alerts = Table(
    "overrun_alerts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("production", String(200), nullable=False),
    Column("scope", String(40), nullable=False),  # a stage key, or "*" for the whole production
    Column("quote_version", Integer, nullable=False),
    Column("crossed_at", DateTime(timezone=True), nullable=False),
    Column("quoted", String(40), nullable=False),
    Column("forecast", String(40), nullable=False),
    Column("threshold_percent", String(20), nullable=False),
    Column("cleared_at", DateTime(timezone=True)),
    Column("notified_to", Text),
    Index("ix_overrun_alerts_production", "production", "scope"),
)

# -- the web page ---------------------------------------------------------------------------------------------

web_users = Table(
    "web_users",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("password_hash", Text, nullable=False),
    Column("role", String(20), nullable=False),  # coordinator | technician | producer
    Column("language", String(5), nullable=False, server_default="fr"),
    Column("productions", Text, nullable=False, server_default="[]"),  # JSON list; a coordinator sees all
    Column("created_at", DateTime(timezone=True), nullable=False),
)
