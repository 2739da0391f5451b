-- One manifest (GET /v1/files/{id}): check the caller's user token, store the new download token.
\set u random(1, 10000)
SELECT t.expires_at, u.id, u.email, u.name, u.role, u.disabled FROM user_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = 'ut' || :u;
INSERT INTO download_tokens(token_hash, scope, user_id, expires_at, revoked) VALUES (md5(random()::text) || md5(random()::text), '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08', :u, 4102444800, 0);
