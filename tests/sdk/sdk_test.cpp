#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <stdlib.h>

#include <cstddef>
#include <filesystem>
#include <fstream>

#include "dfd/creatable_file.hpp"
#include "dfd/dfd.hpp"
#include "dfd/events.hpp"

namespace {
// A well-formed digest / token hash for the event tests (decoders check hex and length).
std::string H(const std::string& x) {
  return dfd::sha256_hex(x);
}
}  // namespace

// The descriptor layout is ABI: fields are appended, never moved. These pin it.
static_assert(offsetof(dfd::PluginDescriptor, struct_size) == 0);
static_assert(offsetof(dfd::PluginDescriptor, abi_major) == 4);
static_assert(offsetof(dfd::PluginDescriptor, abi_minor) == 8);
static_assert(offsetof(dfd::PluginDescriptor, kind) == 12);
static_assert(offsetof(dfd::PluginDescriptor, build_signature) == 16);
static_assert(offsetof(dfd::PluginDescriptor, name) == 24);
static_assert(offsetof(dfd::PluginDescriptor, version) == 32);
static_assert(offsetof(dfd::PluginDescriptor, description) == 40);
static_assert(offsetof(dfd::PluginDescriptor, requires_kinds) == 48);
static_assert(offsetof(dfd::PluginDescriptor, requires_count) == 56);
static_assert(offsetof(dfd::PluginDescriptor, create) == 64);
static_assert(offsetof(dfd::PluginDescriptor, destroy) == 72);
static_assert(offsetof(dfd::PluginDescriptor, check) == 80);  // ABI minor 3
static_assert(sizeof(dfd::PluginDescriptor) == 88);
static_assert(dfd::kDescriptorMinSize == 80);  // a plugin of minor <= 2 is still accepted
static_assert(static_cast<int>(dfd::PluginKind::kInfo) == 1);
static_assert(static_cast<int>(dfd::PluginKind::kDigest) == 5);
static_assert(static_cast<int>(dfd::Code::kOutOfRange) == 14);

TEST(Status, OkAndErrors) {
  dfd::Status ok;
  EXPECT_TRUE(ok.ok());
  EXPECT_EQ(ok.to_string(), "ok");
  auto e = dfd::Status::NotFound("no such file 'x'").with_context("storage-fs");
  EXPECT_FALSE(e.ok());
  EXPECT_EQ(e.code(), dfd::Code::kNotFound);
  EXPECT_EQ(e.to_string(), "not_found: storage-fs: no such file 'x'");
}

TEST(Result, ValueOrStatus) {
  dfd::Result<int> r = 5;
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 5);
  dfd::Result<int> e = dfd::Status::IoError("disk");
  EXPECT_FALSE(e.ok());
  EXPECT_EQ(e.status().code(), dfd::Code::kIoError);
  EXPECT_EQ(e.value_or(7), 7);
  dfd::Result<int> bad = dfd::Status::Ok();  // a success Status is not a value: internal error
  EXPECT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), dfd::Code::kInternal);
}

TEST(Guard, ConvertsExceptions) {
  auto st = dfd::guard("ctx", []() -> dfd::Status { throw std::runtime_error("boom"); });
  EXPECT_EQ(st.code(), dfd::Code::kInternal);
  EXPECT_EQ(st.message(), "ctx: boom");
  auto r = dfd::guard("ctx", []() -> dfd::Result<int> { throw std::bad_alloc(); });
  EXPECT_EQ(r.status().code(), dfd::Code::kResourceExhausted);
}

TEST(SafePath, RefusesEscapes) {
  EXPECT_TRUE(dfd::is_safe_relative_path("a/b.bin"));
  EXPECT_TRUE(dfd::is_safe_relative_path("movie.mp4"));
  for (const char* bad :
       {"", "/etc/passwd", "../x", "a/../../x", "a//b", ".hidden", "a/.git/x", "a/", "a\\b", "."}) {
    EXPECT_FALSE(dfd::is_safe_relative_path(bad)) << bad;
  }
}

TEST(Events, TokenIssuedRoundTrip) {
  dfd::DownloadTokenRecord r{H("ab12"), H("uid1"), 7,
                             dfd::TimePoint(std::chrono::seconds(1800000000))};
  auto d = dfd::events::decode_token_issued(dfd::events::encode_token_issued(r));
  ASSERT_TRUE(d.ok()) << d.status().to_string();
  EXPECT_EQ(d->token_hash, H("ab12"));
  EXPECT_EQ(d->scope, H("uid1"));
  EXPECT_EQ(d->user_id, 7);
  EXPECT_EQ(d->expires_at, r.expires_at);
}

TEST(Events, RejectsBadBodies) {
  EXPECT_FALSE(dfd::events::decode_token_issued("not json").ok());
  EXPECT_FALSE(dfd::events::decode_token_issued("{\"v\":2,\"token_hash\":\"a\"}").ok());
  auto r = dfd::events::decode_token_issued("{\"v\":1,\"scope\":\"a\"}");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("token_hash"), std::string::npos);
}

TEST(Events, TokenIssuedBatchRoundTrip) {
  std::vector<dfd::DownloadTokenRecord> in;
  for (int i = 0; i < 3; ++i) {
    in.push_back({H("h" + std::to_string(i)), H("uid" + std::to_string(i)), 10 + i,
                  dfd::TimePoint(std::chrono::seconds(1800000000 + i))});
  }
  std::vector<dfd::Status> skipped;
  auto d =
      dfd::events::decode_token_issued_batch(dfd::events::encode_token_issued_batch(in), &skipped);
  ASSERT_TRUE(d.ok()) << d.status().to_string();
  EXPECT_TRUE(skipped.empty());
  ASSERT_EQ(d->size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ((*d)[i].token_hash, in[i].token_hash);
    EXPECT_EQ((*d)[i].scope, in[i].scope);
    EXPECT_EQ((*d)[i].user_id, in[i].user_id);
    EXPECT_EQ((*d)[i].expires_at, in[i].expires_at);
  }
  auto j = nlohmann::json::parse(dfd::events::encode_token_issued_batch(in));
  EXPECT_EQ(j["v"], 1);
  EXPECT_EQ(j["tokens"].size(), 3u);
  EXPECT_EQ(j["tokens"][1]["expires_at"], 1800000001);
  // An empty batch is valid and yields nothing.
  auto e = dfd::events::decode_token_issued_batch(dfd::events::encode_token_issued_batch({}));
  ASSERT_TRUE(e.ok());
  EXPECT_TRUE(e->empty());
}

TEST(Events, TokenIssuedBatchDecoderAcceptsTheSingleForm) {
  dfd::DownloadTokenRecord r{H("ab12"), H("uid1"), 7,
                             dfd::TimePoint(std::chrono::seconds(1800000000))};
  auto d = dfd::events::decode_token_issued_batch(dfd::events::encode_token_issued(r));
  ASSERT_TRUE(d.ok()) << d.status().to_string();
  ASSERT_EQ(d->size(), 1u);
  EXPECT_EQ((*d)[0].token_hash, H("ab12"));
  EXPECT_EQ((*d)[0].user_id, 7);
  EXPECT_EQ((*d)[0].expires_at, r.expires_at);
  // And the single decoder still refuses a batch (old file servers drop it as malformed).
  EXPECT_FALSE(dfd::events::decode_token_issued(dfd::events::encode_token_issued_batch({r})).ok());
}

TEST(Events, TokenIssuedBatchSkipsMalformedRecordsAndRefusesBadBodies) {
  std::vector<dfd::Status> skipped;
  const std::string s = H("s");
  auto d = dfd::events::decode_token_issued_batch(
      R"({"v":1,"tokens":[{"token_hash":")" + H("a") + R"(","scope":")" + s +
          R"(","user_id":1,"expires_at":5},)"
          R"({"token_hash":")" +
          H("b") + R"(","scope":")" + s +
          R"("},7,)"
          R"({"token_hash":")" +
          H("c") + R"(","scope":")" + s +
          R"(","user_id":"x","expires_at":5},)"
          R"({"token_hash":")" +
          H("d") + R"(","scope":")" + s + R"(","user_id":2,"expires_at":6,"extra":true}]})",
      &skipped);
  ASSERT_TRUE(d.ok()) << d.status().to_string();
  ASSERT_EQ(d->size(), 2u);
  EXPECT_EQ((*d)[0].token_hash, H("a"));
  EXPECT_EQ((*d)[1].token_hash, H("d"));
  ASSERT_EQ(skipped.size(), 3u);
  EXPECT_NE(skipped[0].message().find("tokens[1]"), std::string::npos) << skipped[0].message();
  EXPECT_NE(skipped[0].message().find("user_id"), std::string::npos) << skipped[0].message();
  EXPECT_NE(skipped[1].message().find("tokens[2]"), std::string::npos);
  EXPECT_NE(skipped[2].message().find("wrong type"), std::string::npos);
  // Without `skipped` the bad ones are dropped silently.
  EXPECT_EQ(dfd::events::decode_token_issued_batch(R"({"v":1,"tokens":[1,2]})")->size(), 0u);

  for (const char* bad : {"not json", "[]", "{}", R"({"v":2,"tokens":[]})", R"({"tokens":[]})",
                          R"({"v":1,"tokens":{}})", R"({"v":1,"tokens":"x"})",
                          R"({"v":1,"scope":"a"})", R"({"v":"1","tokens":[]})"}) {
    EXPECT_FALSE(dfd::events::decode_token_issued_batch(bad).ok()) << bad;
  }
}

TEST(Events, FileAvailableChecksChunkCount) {
  dfd::events::FileAvailable f{"fs-a1",  "zone-a", "http://127.0.0.1:1",       H("u"), "a.bin", 10,
                               "sha256", 4,        {H("c1"), H("c2"), H("c3")}};
  auto ok = dfd::events::decode_file_available(dfd::events::encode_file_available(f));
  ASSERT_TRUE(ok.ok()) << ok.status().to_string();
  EXPECT_EQ(ok->chunks.size(), 3u);
  f.chunks.pop_back();
  EXPECT_FALSE(dfd::events::decode_file_available(dfd::events::encode_file_available(f)).ok());
}

TEST(Crypto, HexShaRandomCompare) {
  EXPECT_EQ(dfd::sha256_hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  auto a = dfd::random_token(32), b = dfd::random_token(32);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->size(), 43u);
  EXPECT_NE(*a, *b);
  EXPECT_TRUE(dfd::constant_time_equals("abc", "abc"));
  EXPECT_FALSE(dfd::constant_time_equals("abc", "abd"));
  EXPECT_FALSE(dfd::constant_time_equals("abc", "ab"));
  EXPECT_EQ(dfd::format_rfc3339(dfd::TimePoint(std::chrono::seconds(0))), "1970-01-01T00:00:00Z");
}

// Issue 14: create() judges a path it will make in start() with check_creatable_file, which
// itself creates nothing.
TEST(CreatableFile, JudgesWithoutCreating) {
  char tmpl[] = "/tmp/dfd-creatable-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl;
  EXPECT_TRUE(dfd::check_creatable_file(dir + "/new.db").ok());
  EXPECT_TRUE(dfd::check_creatable_file(dir + "/a/b/new.db").ok());  // directories made later
  EXPECT_FALSE(std::filesystem::exists(dir + "/new.db"));
  EXPECT_FALSE(std::filesystem::exists(dir + "/a"));
  { std::ofstream(dir + "/file") << "x"; }
  EXPECT_TRUE(dfd::check_creatable_file(dir + "/file").ok());  // an existing file: writable
  auto below_file = dfd::check_creatable_file(dir + "/file/x.db");
  EXPECT_EQ(below_file.code(), dfd::Code::kInvalidArgument);
  EXPECT_NE(below_file.message().find("'" + dir + "/file' is not a directory"), std::string::npos)
      << below_file.message();
  EXPECT_EQ(dfd::check_creatable_file(dir).code(), dfd::Code::kInvalidArgument);  // a directory
  std::filesystem::remove_all(dir);
}
