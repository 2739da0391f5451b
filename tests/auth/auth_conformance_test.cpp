// The SDK's auth conformance kit, run against every auth plugin through its real .so.
#include "auth_subjects.hpp"

namespace {
using dfd::authtest::make_subject;
using dfd::conformance::AuthCase;

INSTANTIATE_TEST_SUITE_P(
    Plugins, AuthConformance,
    ::testing::Values(AuthCase{"auth_sqlite",
                               [] {
                                 return make_subject("auth-sqlite", [](dfd::test::TempDir& d) {
                                   return dfd::authtest::sqlite_config(d.file("state/tokens.db"));
                                 });
                               }},
                      AuthCase{"auth_postgres",
                               [] {
                                 return make_subject("auth-postgres", [](dfd::test::TempDir&) {
                                   return dfd::authtest::postgres_config("authconf");
                                 });
                               }},
                      AuthCase{"auth_hmac",
                               [] {
                                 return make_subject("auth-hmac", [](dfd::test::TempDir& d) {
                                   return dfd::authtest::hmac_config(d.file("keys/hmac.key"));
                                 });
                               }}),
    dfd::conformance::AuthCaseName());
}  // namespace
