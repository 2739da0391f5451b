-- One successful login (POST /v1/auth/login): the throttle's counter for this account and
-- address, the user row, the new user token, the throttle entry cleared.
\set u random(1, 10000)
SELECT failures, window_start FROM login_failures WHERE key = 'user' || :u || '@example.org|127.0.0.1';
SELECT id, email, name, role, salt, kdf_iterations, password_hash, disabled FROM users WHERE email = 'user' || :u || '@example.org';
INSERT INTO user_tokens(token_hash, user_id, expires_at) VALUES (md5(random()::text) || md5(random()::text), :u, 4102444800);
DELETE FROM login_failures WHERE key = 'user' || :u || '@example.org|127.0.0.1';
