-- The tables a manifest, a login and a heartbeat touch, as auth-sqlite and info-sqlite define them
-- (plugins/auth-sqlite/auth_sqlite.cpp kSchema, plugins/info-sqlite/catalog.cpp kSchema, the login
-- throttle of plugins/info-sqlite/login_limiter.hpp), in PostgreSQL types. Used by
-- bench/scale-measure's pgbench runs only; the real schema is the PostgreSQL plugins' migrations.
DROP TABLE IF EXISTS download_tokens, user_tokens, users, servers, login_failures;
CREATE TABLE users(
  id bigserial PRIMARY KEY,
  email text NOT NULL UNIQUE,
  name text NOT NULL,
  role text NOT NULL,
  salt text NOT NULL,
  kdf_iterations integer NOT NULL,
  password_hash text NOT NULL,
  created_at bigint NOT NULL,
  disabled integer NOT NULL DEFAULT 0);
CREATE TABLE user_tokens(
  token_hash text PRIMARY KEY,
  user_id bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  expires_at bigint NOT NULL);
CREATE INDEX user_tokens_expires ON user_tokens(expires_at);
CREATE TABLE download_tokens(
  token_hash text PRIMARY KEY,
  scope text NOT NULL,
  user_id bigint NOT NULL,
  expires_at bigint NOT NULL,
  revoked integer NOT NULL DEFAULT 0);
CREATE INDEX download_tokens_expires ON download_tokens(expires_at);
CREATE TABLE servers(
  server_id text PRIMARY KEY,
  zone text NOT NULL,
  url text NOT NULL,
  last_heartbeat bigint NOT NULL,
  interval_ms bigint NOT NULL);
CREATE TABLE login_failures(
  key text PRIMARY KEY,
  failures integer NOT NULL,
  window_start bigint NOT NULL);
-- 10,000 users each with one live user token, 10,000 file servers.
INSERT INTO users(email, name, role, salt, kdf_iterations, password_hash, created_at)
  SELECT 'user' || i || '@example.org', 'User ' || i, 'user', md5(i::text), 210000,
         md5('p' || i) || md5('q' || i), 0 FROM generate_series(1, 10000) AS i;
INSERT INTO user_tokens SELECT 'ut' || i, i, 4102444800 FROM generate_series(1, 10000) AS i;
INSERT INTO servers SELECT 'fs-' || i, 'zone-' || (i % 100), 'https://fs-' || i || '.example:9101',
  0, 2000 FROM generate_series(1, 10000) AS i;
VACUUM ANALYZE;
