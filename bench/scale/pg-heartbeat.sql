-- One server.heartbeat applied by one info server (catalog.cpp apply_heartbeat).
\set s random(1, 10000)
INSERT INTO servers(server_id, zone, url, last_heartbeat, interval_ms) VALUES ('fs-' || :s, 'zone-' || (:s % 100), 'https://fs-' || :s || '.example:9101', (extract(epoch from clock_timestamp()) * 1000)::bigint, 2000) ON CONFLICT(server_id) DO UPDATE SET zone = excluded.zone, url = excluded.url, last_heartbeat = greatest(servers.last_heartbeat, excluded.last_heartbeat), interval_ms = excluded.interval_ms;
