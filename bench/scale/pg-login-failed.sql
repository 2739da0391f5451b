-- One failed login: the throttle counts it (shared by every info server on the database).
\set u random(1, 10000)
SELECT id, email, name, role, salt, kdf_iterations, password_hash, disabled FROM users WHERE email = 'user' || :u || '@example.org';
INSERT INTO login_failures(key, failures, window_start) VALUES ('user' || :u || '@example.org|10.0.0.' || (:u % 250), 1, 0) ON CONFLICT(key) DO UPDATE SET failures = login_failures.failures + 1;
