-- 100 heartbeats applied in one statement (an info server, or a per-zone aggregator, writing what
-- it received in the last interval as one batch). One transaction = 100 heartbeats.
\set s random(0, 99)
INSERT INTO servers(server_id, zone, url, last_heartbeat, interval_ms) SELECT 'fs-' || (:s * 100 + i), 'zone-' || :s, 'https://fs-' || (:s * 100 + i) || '.example:9101', (extract(epoch from clock_timestamp()) * 1000)::bigint, 2000 FROM generate_series(1, 100) AS i ON CONFLICT(server_id) DO UPDATE SET zone = excluded.zone, url = excluded.url, last_heartbeat = greatest(servers.last_heartbeat, excluded.last_heartbeat), interval_ms = excluded.interval_ms;
