#include "info_postgres_schema.hpp"

namespace dfd::info_postgres {

namespace {
// Version 1. Never edited once released: a change is a new step.
//
// info_store_available: the file when its uid is new, with the next id (dense, in the order files
// are first stored, the same on every server: the one inserting holds a transaction-scoped
// advisory lock and takes max(id) + 1 from a snapshot taken after the lock); then, unless the
// stored file has another size or algorithm, the location and the server's sign of life. Returns
// the stored file. Idempotent: a second call stores nothing new.
constexpr const char* kV1 = R"sql(
CREATE TABLE info_files(
  id bigint PRIMARY KEY,
  uid text NOT NULL UNIQUE,
  name text NOT NULL,
  size bigint NOT NULL,
  alg text NOT NULL,
  chunk_size bigint NOT NULL,
  chunks text NOT NULL,
  first_seen bigint NOT NULL);
CREATE TABLE info_locations(
  uid text NOT NULL,
  server_id text NOT NULL,
  url text NOT NULL,
  zone text NOT NULL,
  last_seen bigint NOT NULL,
  PRIMARY KEY(uid, server_id));
CREATE INDEX info_locations_last_seen ON info_locations(last_seen);
CREATE TABLE info_servers(
  server_id text PRIMARY KEY,
  zone text NOT NULL,
  url text NOT NULL,
  last_heartbeat bigint NOT NULL,
  interval_ms bigint NOT NULL);
CREATE INDEX info_servers_last_heartbeat ON info_servers(last_heartbeat);
CREATE TABLE info_login_failures(
  kind smallint NOT NULL,
  key text NOT NULL,
  at_ms bigint NOT NULL,
  ticket bigint NOT NULL);
CREATE INDEX info_login_failures_key ON info_login_failures(kind, key, at_ms);
CREATE INDEX info_login_failures_ticket ON info_login_failures(ticket);
CREATE INDEX info_login_failures_at ON info_login_failures(at_ms);
CREATE SEQUENCE info_login_tickets;

CREATE FUNCTION info_store_available(p_uid text, p_name text, p_size bigint, p_alg text,
    p_chunk_size bigint, p_chunks text, p_server text, p_url text, p_zone text, p_now bigint)
RETURNS TABLE(r_id bigint, r_uid text, r_name text, r_size bigint, r_alg text,
              r_chunk_size bigint, r_chunks text, r_first_seen bigint)
LANGUAGE plpgsql AS $fn$
DECLARE
  f info_files%ROWTYPE;
BEGIN
  SELECT * INTO f FROM info_files t WHERE t.uid = p_uid;
  IF NOT FOUND THEN
    PERFORM pg_advisory_xact_lock(7234298461904752001);
    INSERT INTO info_files(id, uid, name, size, alg, chunk_size, chunks, first_seen)
      SELECT coalesce(max(t.id), 0) + 1, p_uid, p_name, p_size, p_alg, p_chunk_size, p_chunks,
             p_now
      FROM info_files t
      ON CONFLICT (uid) DO NOTHING;
    SELECT * INTO f FROM info_files t WHERE t.uid = p_uid;
  END IF;
  IF f.size = p_size AND f.alg = p_alg THEN
    INSERT INTO info_locations AS l(uid, server_id, url, zone, last_seen)
      VALUES(p_uid, p_server, p_url, p_zone, p_now)
      ON CONFLICT (uid, server_id) DO UPDATE SET url = excluded.url, zone = excluded.zone,
        last_seen = greatest(l.last_seen, excluded.last_seen);
    INSERT INTO info_servers AS s(server_id, zone, url, last_heartbeat, interval_ms)
      VALUES(p_server, p_zone, p_url, p_now, 0)
      ON CONFLICT (server_id) DO UPDATE SET zone = excluded.zone, url = excluded.url,
        last_heartbeat = greatest(s.last_heartbeat, excluded.last_heartbeat);
  END IF;
  RETURN QUERY SELECT f.id, f.uid, f.name, f.size, f.alg, f.chunk_size, f.chunks, f.first_seen;
END
$fn$;
)sql";
}  // namespace

const std::vector<pg::MigrationStep>& schema_steps() {
  static const std::vector<pg::MigrationStep> steps{{1, kV1}};
  return steps;
}

}  // namespace dfd::info_postgres
