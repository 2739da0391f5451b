#include <gtest/gtest.h>

#include <cstddef>

#include "dfd/dfd.hpp"
#include "dfd/events.hpp"

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
static_assert(sizeof(dfd::PluginDescriptor) == 80);
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
  for (const char* bad : {"", "/etc/passwd", "../x", "a/../../x", "a//b", ".hidden", "a/.git/x",
                          "a/", "a\\b", "."}) {
    EXPECT_FALSE(dfd::is_safe_relative_path(bad)) << bad;
  }
}

TEST(Events, TokenIssuedRoundTrip) {
  dfd::DownloadTokenRecord r{"ab12", "uid1", 7,
                             dfd::TimePoint(std::chrono::seconds(1800000000))};
  auto d = dfd::events::decode_token_issued(dfd::events::encode_token_issued(r));
  ASSERT_TRUE(d.ok()) << d.status().to_string();
  EXPECT_EQ(d->token_hash, "ab12");
  EXPECT_EQ(d->scope, "uid1");
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

TEST(Events, FileAvailableChecksChunkCount) {
  dfd::events::FileAvailable f{"fs-a1", "zone-a", "http://127.0.0.1:1", "u", "a.bin", 10,
                               "sha256", 4, {"c1", "c2", "c3"}};
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
