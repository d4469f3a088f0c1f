"""A new SQLite store's schema at HEAD as SQLAlchemy's create_all writes it (store/schema.py's `create`, on
SQLite): each statement in its order, so that store/writing.py makes a new database without importing SQLAlchemy.

Generated from a store that store/schema.py created; tests/store/test_store_writing.py holds a database made from
these statements equal to one made by SQLAlchemy (sqlite_master row for row) and fails when store/tables.py or
HEAD change without them: print the new ones with `python -m store.sqlite_schema` on a store made by
`Store(url)` and paste them here (HEAD too).
"""

from __future__ import annotations

import sqlite3
import sys

SCHEMA_HEAD = "0006"  # the revision these statements make (store/revision.py's HEAD when they were written)

STATEMENTS: tuple[str, ...] = (
    ('CREATE TABLE ingests (\n'
     '\tid INTEGER NOT NULL, \n'
     '\tproduction VARCHAR(200) NOT NULL, \n'
     '\tsource TEXT NOT NULL, \n'
     '\tstarted_at DATETIME NOT NULL, \n'
     '\tfinished_at DATETIME, \n'
     '\tfiles INTEGER NOT NULL, \n'
     '\tnew_files INTEGER NOT NULL, \n'
     '\tskipped INTEGER NOT NULL, \n'
     '\terrors INTEGER NOT NULL, \n'
     '\twarnings INTEGER NOT NULL, \n'
     '\treport_json TEXT, \n'
     '\treport_html TEXT, \n'
     '\tPRIMARY KEY (id)\n'
     ')'),
    'CREATE INDEX ix_ingests_production ON ingests (production)',
    ('CREATE TABLE proxies (\n'
     '\tid INTEGER NOT NULL, \n'
     '\tproduction VARCHAR(200) NOT NULL, \n'
     '\tpreset VARCHAR(200) NOT NULL, \n'
     '\tfingerprint VARCHAR(32) NOT NULL, \n'
     '\tsource_path TEXT NOT NULL, \n'
     '\tsource_hash_algorithm VARCHAR(20) NOT NULL, \n'
     '\tsource_hash VARCHAR(128) NOT NULL, \n'
     '\tsource_media_id INTEGER, \n'
     '\tproxy_path TEXT NOT NULL, \n'
     '\tproxy_media_id INTEGER, \n'
     '\tsize BIGINT NOT NULL, \n'
     '\tmtime_ns BIGINT NOT NULL, \n'
     '\tencoder VARCHAR(64), \n'
     '\tmade_at DATETIME NOT NULL, \n'
     '\tPRIMARY KEY (id), \n'
     '\tCONSTRAINT uq_proxies_production_path UNIQUE (production, proxy_path)\n'
     ')'),
    ('CREATE TABLE productions (\n'
     '\tid INTEGER NOT NULL, \n'
     '\tname VARCHAR(200) NOT NULL, \n'
     '\ttemplate VARCHAR(200), \n'
     '\tdelivery_profile VARCHAR(200), \n'
     "\thours_per_day FLOAT DEFAULT '8' NOT NULL, \n"
     '\tplanned_start DATE, \n'
     '\tcreated_at DATETIME NOT NULL, \n'
     "\trevision INTEGER DEFAULT '0' NOT NULL, \n"
     '\tPRIMARY KEY (id), \n'
     '\tUNIQUE (name)\n'
     ')'),
    ('CREATE TABLE stages (\n'
     '\tid INTEGER NOT NULL, \n'
     '\tproduction VARCHAR(200) NOT NULL, \n'
     '\tstage VARCHAR(40) NOT NULL, \n'
     '\tstate VARCHAR(20) NOT NULL, \n'
     '\tnote TEXT, \n'
     '\tupdated_at DATETIME NOT NULL, \n'
     '\tlabel VARCHAR(200), \n'
     '\tposition INTEGER, \n'
     '\tplanned_start DATE, \n'
     '\tplanned_end DATE, \n'
     '\tplanned_minutes INTEGER, \n'
     '\tresponsible VARCHAR(200), \n'
     '\tdepends_on TEXT, \n'
     '\tactual_start DATE, \n'
     '\tactual_end DATE, \n'
     '\tevidence TEXT, \n'
     "\trevision INTEGER DEFAULT '0' NOT NULL, \n"
     '\tPRIMARY KEY (id), \n'
     '\tCONSTRAINT uq_stage UNIQUE (production, stage)\n'
     ')'),
    ('CREATE TABLE stage_events (\n'
     '\tid INTEGER NOT NULL, \n'
     '\tproduction VARCHAR(200) NOT NULL, \n'
     '\tstage VARCHAR(40) NOT NULL, \n'
     '\tstate VARCHAR(20) NOT NULL, \n'
     '\tnote TEXT, \n'
     '\tevidence TEXT, \n'
     '\tat DATETIME NOT NULL, \n'
     '\tPRIMARY KEY (id)\n'
     ')'),
    'CREATE INDEX ix_stage_events_production ON stage_events (production)',
    'CREATE INDEX ix_stage_events_at ON stage_events (at)',
    ('CREATE TABLE session_reports (\n'
     '\tid INTEGER NOT NULL, \n'
     '\tproduction VARCHAR(200) NOT NULL, \n'
     '\tstage VARCHAR(40) NOT NULL, \n'
     '\ttechnician VARCHAR(200) NOT NULL, \n'
     '\twork_date DATE NOT NULL, \n'
     '\tminutes INTEGER NOT NULL, \n'
     '\tdone TEXT NOT NULL, \n'
     '\tincidents TEXT, \n'
     '\tsource TEXT, \n'
     '\tfingerprint VARCHAR(64) NOT NULL, \n'
     '\tcreated_at DATETIME NOT NULL, \n'
     '\treview VARCHAR(20), \n'
     '\treviewed_by VARCHAR(200), \n'
     '\treviewed_at DATETIME, \n'
     '\toriginal_minutes INTEGER, \n'
     '\tPRIMARY KEY (id), \n'
     '\tCONSTRAINT uq_session_report UNIQUE (production, fingerprint)\n'
     ')'),
    'CREATE INDEX ix_session_reports_production_stage ON session_reports (production, stage)',
    ('CREATE TABLE digests (\n'
     '\tid INTEGER NOT NULL, \n'
     '\tat DATETIME NOT NULL, \n'
     '\tpath TEXT, \n'
     '\tsent_to TEXT, \n'
     '\tPRIMARY KEY (id)\n'
     ')'),
    ('CREATE TABLE quotes (\n'
     '\tid INTEGER NOT NULL, \n'
     '\tproduction VARCHAR(200) NOT NULL, \n'
     '\tversion INTEGER NOT NULL, \n'
     '\tcreated_at DATETIME NOT NULL, \n'
     '\treason TEXT NOT NULL, \n'
     '\tcurrency VARCHAR(3) NOT NULL, \n'
     '\trates TEXT NOT NULL, \n'
     '\tcontingency_percent VARCHAR(20) NOT NULL, \n'
     '\tlines TEXT NOT NULL, \n'
     '\ttotal VARCHAR(40) NOT NULL, \n'
     '\tPRIMARY KEY (id), \n'
     '\tCONSTRAINT uq_quote_version UNIQUE (production, version)\n'
     ')'),
    ('CREATE TABLE overrun_alerts (\n'
     '\tid INTEGER NOT NULL, \n'
     '\tproduction VARCHAR(200) NOT NULL, \n'
     '\tscope VARCHAR(40) NOT NULL, \n'
     '\tquote_version INTEGER NOT NULL, \n'
     '\tcrossed_at DATETIME NOT NULL, \n'
     '\tquoted VARCHAR(40) NOT NULL, \n'
     '\tforecast VARCHAR(40) NOT NULL, \n'
     '\tthreshold_percent VARCHAR(20) NOT NULL, \n'
     '\tcleared_at DATETIME, \n'
     '\tnotified_to TEXT, \n'
     '\tPRIMARY KEY (id)\n'
     ')'),
    'CREATE INDEX ix_overrun_alerts_production ON overrun_alerts (production, scope)',
    ('CREATE TABLE web_users (\n'
     '\tid INTEGER NOT NULL, \n'
     '\tname VARCHAR(200) NOT NULL, \n'
     '\tpassword_hash TEXT NOT NULL, \n'
     '\trole VARCHAR(20) NOT NULL, \n'
     "\tlanguage VARCHAR(5) DEFAULT 'fr' NOT NULL, \n"
     "\tproductions TEXT DEFAULT '[]' NOT NULL, \n"
     '\tcreated_at DATETIME NOT NULL, \n'
     '\tPRIMARY KEY (id), \n'
     '\tUNIQUE (name)\n'
     ')'),
    ('CREATE TABLE media (\n'
     '\tid INTEGER NOT NULL, \n'
     '\tproduction VARCHAR(200) NOT NULL, \n'
     '\tpath TEXT NOT NULL, \n'
     '\tcard TEXT NOT NULL, \n'
     '\trelpath TEXT NOT NULL, \n'
     '\trole VARCHAR(20) NOT NULL, \n'
     '\tsource_id INTEGER, \n'
     '\tkind VARCHAR(20) NOT NULL, \n'
     '\tsize BIGINT NOT NULL, \n'
     '\tmtime_ns BIGINT NOT NULL, \n'
     '\thash_algorithm VARCHAR(20), \n'
     '\thash VARCHAR(128), \n'
     '\tclip_name VARCHAR(500), \n'
     '\treel VARCHAR(200), \n'
     '\tstart_frames BIGINT, \n'
     '\tduration_frames BIGINT, \n'
     '\trate VARCHAR(32), \n'
     '\tdrop_frame BOOLEAN, \n'
     '\tworst_severity VARCHAR(10), \n'
     '\tstatus VARCHAR(20) NOT NULL, \n'
     '\tmedia_json TEXT NOT NULL, \n'
     '\tingest_id INTEGER, \n'
     '\tfirst_seen DATETIME NOT NULL, \n'
     '\tupdated_at DATETIME NOT NULL, \n'
     '\tPRIMARY KEY (id), \n'
     '\tCONSTRAINT uq_media_production_path UNIQUE (production, path), \n'
     '\tFOREIGN KEY(source_id) REFERENCES media (id), \n'
     '\tFOREIGN KEY(ingest_id) REFERENCES ingests (id)\n'
     ')'),
    'CREATE INDEX ix_media_production_hash ON media (production, hash)',
    'CREATE INDEX ix_media_clip_name ON media (clip_name)',
    'CREATE INDEX ix_media_reel ON media (reel)',
    'CREATE INDEX ix_media_production_reel ON media (production, reel)',
    'CREATE INDEX ix_media_production_start ON media (production, start_frames)',
    ('CREATE TABLE media_keys (\n'
     '\tmedia_id INTEGER NOT NULL, \n'
     '\tkind VARCHAR(8) NOT NULL, \n'
     '\t"key" VARCHAR(200) NOT NULL, \n'
     '\tproduction VARCHAR(200) NOT NULL, \n'
     '\toriginal BOOLEAN NOT NULL, \n'
     '\tusable BOOLEAN NOT NULL, \n'
     '\trate VARCHAR(32), \n'
     '\tdrop_frame BOOLEAN, \n'
     '\tstart_frames BIGINT, \n'
     '\tend_frames BIGINT, \n'
     '\tPRIMARY KEY (media_id, kind, "key"), \n'
     '\tFOREIGN KEY(media_id) REFERENCES media (id)\n'
     ')'),
    ('CREATE INDEX ix_media_keys_lookup ON media_keys (production, "key", kind, usable, original, rate, drop_frame, start_frames, end_frames, media_id)'),  # noqa: E501
    ('CREATE TABLE planning_alembic_version (\n'
     '\tversion_num VARCHAR(32) NOT NULL, \n'
     '\tCONSTRAINT planning_alembic_version_pkc PRIMARY KEY (version_num)\n'
     ')'),
)


def statements_of(db: str) -> list[str]:
    """The CREATE statements of a SQLite database, in the order it made them (sqlite_master's)."""
    conn = sqlite3.connect(db)
    try:
        return [r[0] for r in conn.execute("SELECT sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY rowid")]
    finally:
        conn.close()


if __name__ == "__main__":
    for statement in statements_of(sys.argv[1]):
        print(f"    {statement!r},")
