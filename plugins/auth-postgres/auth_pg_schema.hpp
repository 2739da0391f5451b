// auth-postgres: its tables (migrations of component "auth") and its prepared statements.
//
//   auth_users(id BIGINT identity, email, name, role, salt, kdf_iterations, password_hash,
//              created_at, disabled)             unique on lower(email)
//   auth_user_tokens(token_hash PK, user_id → auth_users ON DELETE CASCADE, expires_at)
//   auth_download_tokens(token_hash PK, scope, user_id, expires_at, revoked)
// Times are Unix seconds (BIGINT), hashes lower-case hex SHA-256, as in auth-sqlite.
#pragma once

#include <vector>

#include "pg_connection.hpp"
#include "pg_migrate.hpp"

namespace dfd::auth_postgres {

const std::vector<pg::MigrationStep>& migrations();

// Statements. Every write is idempotent unless noted, so the pool may retry it once.
extern const pg::Statement kInsertDownload;      // $1 hash $2 scope $3 user $4 expiry; first wins
extern const pg::Statement kSelectDownload;      // $1 hash → hash, scope, expires_at, revoked
extern const pg::Statement kRevokeDownload;      // $1 hash $2 tombstone expiry
extern const pg::Statement kPurgeDownload;       // $1 cutoff
extern const pg::Statement kPurgeUserTokens;     // $1 cutoff
extern const pg::Statement kInsertUser;          // NOT idempotent; RETURNING id
extern const pg::Statement kSelectUserByEmail;   // $1 email (any case)
extern const pg::Statement kSelectUserById;      // $1 id → id, email, name, role, disabled
extern const pg::Statement kInsertUserToken;     // $1 hash $2 user $3 expiry
extern const pg::Statement kSelectUserToken;     // $1 hash → hash, expiry, user, disabled
extern const pg::Statement kDeleteUserToken;     // $1 hash
extern const pg::Statement kSetUserDisabled;     // $1 id $2 bool
extern const pg::Statement kDeleteUserTokensOf;  // $1 user
extern const pg::Statement kRevokeDownloadsOf;   // $1 user $2 now
extern const pg::Statement kSelectRevokedOf;     // $1 user $2 now → hashes
extern const pg::Statement kListUsers;    // $1 limit $2 offset → id, email, name, role, disabled
extern const pg::Statement kCountUsers;   // → count
extern const pg::Statement kSetPassword;  // $1 id $2 salt $3 iterations $4 hash
extern const pg::Statement kPing;

}  // namespace dfd::auth_postgres
