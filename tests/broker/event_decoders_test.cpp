// The broker event decoders (sdk/src/events.cpp) as total functions over hostile bodies: exact
// bounds on sizes, counts, hex lengths and names; errors never echo a value from the body.
#include <gtest/gtest.h>

#include <functional>
#include <random>
#include <string>
#include <vector>

#include "dfd/events.hpp"

namespace dfd::events {
namespace {

std::string H(const std::string& x) {
  return sha256_hex(x);
}

// A token.issued body with `hash` and `scope` spliced in raw (so tests can break the JSON too).
std::string token_body(const std::string& hash, const std::string& scope = H("file"),
                       const std::string& user_id = "7",
                       const std::string& expires_at = "1800000000") {
  return R"({"v":1,"token_hash":")" + hash + R"(","scope":")" + scope + R"(","user_id":)" +
         user_id + R"(,"expires_at":)" + expires_at + "}";
}

FileAvailable good_file() {
  return FileAvailable{"fs-a1",  "zone-a", "http://127.0.0.1:9101",    H("whole"), "dir/a.bin", 10,
                       "sha256", 4,        {H("c0"), H("c1"), H("c2")}};
}

// Every decoder, by name, for the properties that hold for all of them.
const std::vector<std::pair<const char*, std::function<Status(std::string_view)>>>& decoders() {
  static const std::vector<std::pair<const char*, std::function<Status(std::string_view)>>> d = {
      {"token.issued", [](std::string_view b) { return decode_token_issued(b).status(); }},
      {"token.issued batch",
       [](std::string_view b) { return decode_token_issued_batch(b).status(); }},
      {"token.revoked", [](std::string_view b) { return decode_token_revoked(b).status(); }},
      {"file.available", [](std::string_view b) { return decode_file_available(b).status(); }},
      {"file.removed", [](std::string_view b) { return decode_file_removed(b).status(); }},
      {"server.heartbeat", [](std::string_view b) { return decode_heartbeat(b).status(); }},
  };
  return d;
}

TEST(EventDecoders, TokenIssuedRefusesAMalformedHashOrScope) {
  ASSERT_TRUE(decode_token_issued(token_body(H("t"))).ok());
  const std::string upper = [] {
    std::string s = H("t");
    for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return s;
  }();
  for (const std::string& hash : {std::string("NOT-A-HASH"), H("t").substr(1), H("t") + "0", upper,
                                  std::string(""), H("t").substr(0, 63) + "g"}) {
    auto r = decode_token_issued(token_body(hash));
    ASSERT_FALSE(r.ok()) << hash;
    EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
    EXPECT_NE(r.status().message().find("token_hash"), std::string::npos) << r.status().message();
    // The batch decoder refuses the same body whole (single form).
    EXPECT_FALSE(decode_token_issued_batch(token_body(hash)).ok()) << hash;
  }
  for (const std::string& scope : {std::string("uid1"), std::string("../etc"), H("f").substr(2)}) {
    EXPECT_FALSE(decode_token_issued(token_body(H("t"), scope)).ok()) << scope;
  }
  EXPECT_TRUE(decode_token_issued(token_body(H("t"), H("a") + H("b"))).ok()) << "128 hex scope";
}

TEST(EventDecoders, TokenIssuedNumbersAreExact) {
  for (const char* bad : {"-1", "1.5", "1e400", "\"7\"", "18446744073709551616", "true"}) {
    EXPECT_FALSE(decode_token_issued(token_body(H("t"), H("f"), bad)).ok()) << bad;
  }
  // expires_at beyond 2^32-1 would overflow the nanosecond clock far later: refused here.
  EXPECT_TRUE(decode_token_issued(token_body(H("t"), H("f"), "1", "4294967295")).ok());
  for (const char* bad : {"4294967296", "9223372036854775807", "-5", "1e12", "0.5"}) {
    EXPECT_FALSE(decode_token_issued(token_body(H("t"), H("f"), "1", bad)).ok()) << bad;
  }
}

TEST(EventDecoders, TokenIssuedBatchIsBoundedAndSkipsBadRecords) {
  std::vector<DownloadTokenRecord> recs(limits::kMaxTokensPerEvent,
                                        {H("t"), H("f"), 1, TimePoint(std::chrono::seconds(5))});
  auto full = decode_token_issued_batch(encode_token_issued_batch(recs));
  ASSERT_TRUE(full.ok()) << full.status().to_string();
  EXPECT_EQ(full->size(), limits::kMaxTokensPerEvent);
  recs.push_back(recs.front());
  auto over = decode_token_issued_batch(encode_token_issued_batch(recs));
  ASSERT_FALSE(over.ok());
  EXPECT_NE(over.status().message().find("limit"), std::string::npos);

  std::vector<Status> skipped;
  auto mixed = decode_token_issued_batch(
      R"({"v":1,"tokens":[)" + token_body("NOT-A-HASH") + "," + token_body(H("ok")) + "]}",
      &skipped);
  ASSERT_TRUE(mixed.ok());
  ASSERT_EQ(mixed->size(), 1u);
  EXPECT_EQ((*mixed)[0].token_hash, H("ok"));
  ASSERT_EQ(skipped.size(), 1u);
  EXPECT_NE(skipped[0].message().find("tokens[0]"), std::string::npos);
}

TEST(EventDecoders, EveryDecoderRefusesGarbageWrongVersionHugeAndDeepBodies) {
  const std::string huge = R"({"v":1,"pad":")" + std::string(limits::kMaxEventBytes, 'a') + "\"}";
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  const std::string deep_obj = R"({"v":1,"x":)" + std::string(50, '[') + std::string(50, ']') + "}";
  // 600,000 tiny values in 1.2 MB: ~10 MB of parsed tree; refused before parsing.
  std::string tiny = R"({"v":1,"x":[0)";
  for (int i = 0; i < 600000; ++i) tiny += ",0";
  tiny += "]}";
  for (const auto& [name, decode] : decoders()) {
    for (const std::string& bad :
         {std::string(""), std::string("not json"), std::string("[]"), std::string("null"),
          std::string(R"({"v":2})"), std::string(R"({"v":"1"})"), std::string(R"({"v":1.0})"),
          std::string(R"({"v":1})"), std::string("{\"v\":1,\"token_hash\":\"\xff\xfe\"}"), huge,
          deep, deep_obj, tiny, std::string("\0{\"v\":1}", 9)}) {
      Status st = decode(bad);
      EXPECT_EQ(st.code(), Code::kInvalidArgument) << name << ": " << bad.substr(0, 40);
    }
  }
}

TEST(EventDecoders, ValueCountIsBoundedBeforeParsing) {
  std::string body = R"({"v":1,"x":[0)";
  for (std::size_t i = 0; i < limits::kMaxChunks + limits::kJsonValueSlack; ++i) body += ",0";
  body += "]}";
  auto r = decode_file_available(body);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("values"), std::string::npos) << r.status().message();
  // Commas inside strings are not counted: a name of 4000 commas is one (valid) string.
  auto f = good_file();
  f.name = std::string(4000, ',');
  auto ok = decode_file_available(encode_file_available(f));
  EXPECT_TRUE(ok.ok()) << ok.status().to_string();
}

TEST(EventDecoders, ErrorsNeverEchoAValueFromTheBody) {
  const std::string marker = "SECRET-MARKER-\x1b[31m";
  const std::vector<std::string> bodies = {
      token_body(marker),
      token_body(H("t"), marker),
      R"({"v":1,"token_hash":")" + marker + "\"}",
      R"({"v":1,"server_id":")" + marker + R"(","uid":"x"})",
      R"({"v":1,"server_id":"s","zone":"z","url":")" + marker + R"(","interval_ms":1,"files":1})",
  };
  for (const auto& [name, decode] : decoders()) {
    for (const auto& b : bodies) {
      Status st = decode(b);
      ASSERT_FALSE(st.ok()) << name;
      EXPECT_EQ(st.message().find("SECRET-MARKER"), std::string::npos) << st.message();
      EXPECT_EQ(st.message().find('\x1b'), std::string::npos) << st.message();
    }
  }
}

TEST(EventDecoders, FileAvailableRefusesControlCharactersAndUnsafeNames) {
  ASSERT_TRUE(decode_file_available(encode_file_available(good_file())).ok());
  for (const std::string& name : {std::string("r\xc3\xa9sum\xc3\xa9.pdf"), std::string("a/b/c.bin"),
                                  std::string("\xe6\x96\x87\xe4\xbb\xb6")}) {
    auto f = good_file();
    f.name = name;
    EXPECT_TRUE(decode_file_available(encode_file_available(f)).ok()) << name;
  }
  for (const std::string& name :
       {std::string("evil\x1b]0;title\x07.bin"), std::string("bell\x07"), std::string("a\nb"),
        std::string("tab\there"), std::string("nul\0x", 5), std::string("del\x7f"),
        std::string("rtl-\xe2\x80\xaegpj.exe"), std::string("ls\xe2\x80\xa8x"),
        std::string("iso\xe2\x81\xa6x"),
        std::string("c1-\xc2\x9b"
                    "31m"),
        std::string("../x"), std::string("/etc/passwd"), std::string(".hidden"),
        std::string("a//b"), std::string(""), std::string(limits::kMaxNameBytes + 1, 'n')}) {
    auto f = good_file();
    f.name = name;
    auto r = decode_file_available(encode_file_available(f));
    ASSERT_FALSE(r.ok()) << name;
    EXPECT_NE(r.status().message().find("\"name\""), std::string::npos) << r.status().message();
  }
  // Invalid UTF-8 cannot be encoded by the JSON writer; splice it in raw.
  for (const std::string& raw : {std::string("\xc0\xaf"), std::string("\xed\xa0\x80"),
                                 std::string("\xf8\x88\x80\x80\x80"), std::string("a\xc3")}) {
    std::string body = encode_file_available(good_file());
    body.replace(body.find("dir/a.bin"), 9, raw);
    EXPECT_FALSE(decode_file_available(body).ok());
  }
}

TEST(EventDecoders, FileAvailableSizesChunksAndDigestsAreExact) {
  auto check = [](const std::function<void(FileAvailable&)>& edit) {
    auto f = good_file();
    edit(f);
    return decode_file_available(encode_file_available(f)).status();
  };
  EXPECT_TRUE(check([](FileAvailable&) {}).ok());
  EXPECT_TRUE(check([](FileAvailable& f) {
                f.size = 0;
                f.chunks.clear();
              }).ok());
  // Issue 11 #9: chunk_size 2^64-1 with no chunks must not be a valid empty file.
  EXPECT_FALSE(check([](FileAvailable& f) {
                 f.chunk_size = ~std::uint64_t{0};
                 f.chunks.clear();
               }).ok());
  EXPECT_FALSE(check([](FileAvailable& f) { f.chunk_size = 0; }).ok());
  EXPECT_FALSE(check([](FileAvailable& f) { f.size = ~std::uint64_t{0}; }).ok());
  EXPECT_FALSE(check([](FileAvailable& f) { f.chunks.pop_back(); }).ok());
  EXPECT_FALSE(check([](FileAvailable& f) { f.chunks.push_back(H("x")); }).ok());
  EXPECT_FALSE(check([](FileAvailable& f) { f.chunks[1] = "c1"; }).ok());
  EXPECT_FALSE(check([](FileAvailable& f) { f.chunks[1] = H("a") + H("b"); }).ok());
  EXPECT_FALSE(check([](FileAvailable& f) { f.uid = "u"; }).ok());
  EXPECT_FALSE(check([](FileAvailable& f) { f.alg = "sha512"; }).ok()) << "64 hex for sha512";
  EXPECT_FALSE(check([](FileAvailable& f) { f.alg = "sha 256"; }).ok());
  EXPECT_FALSE(check([](FileAvailable& f) { f.url = "gopher://127.0.0.1:70/"; }).ok());
  EXPECT_FALSE(check([](FileAvailable& f) { f.url = "http://"; }).ok());
  EXPECT_FALSE(check([](FileAvailable& f) { f.server_id = "fs a1"; }).ok());
  EXPECT_FALSE(check([](FileAvailable& f) { f.zone = ""; }).ok());
  EXPECT_FALSE(check([](FileAvailable& f) { f.zone = std::string(257, 'z'); }).ok());
  // More chunks than the limit is refused from the numbers, before the array is looked at.
  auto many = check([](FileAvailable& f) {
    f.chunk_size = 1;
    f.size = limits::kMaxChunks + 1;
    f.chunks.clear();
  });
  ASSERT_FALSE(many.ok());
  EXPECT_NE(many.message().find("limit"), std::string::npos) << many.message();
}

TEST(EventDecoders, SmallEventsRoundTripAndAreBounded) {
  auto rev = decode_token_revoked(encode_token_revoked(H("t")));
  ASSERT_TRUE(rev.ok());
  EXPECT_EQ(*rev, H("t"));
  EXPECT_FALSE(decode_token_revoked(encode_token_revoked("NOT-A-HASH")).ok());
  auto rm = decode_file_removed(encode_file_removed({"fs-a1", H("f")}));
  ASSERT_TRUE(rm.ok());
  EXPECT_FALSE(decode_file_removed(encode_file_removed({"fs-a1", "uid"})).ok());
  EXPECT_FALSE(decode_file_removed(encode_file_removed({"fs\na1", H("f")})).ok());
  Heartbeat h{"fs-a1", "zone-a", "https://fs-a1.example:9101", 2000, 3};
  ASSERT_TRUE(decode_heartbeat(encode_heartbeat(h)).ok());
  for (auto edit : std::vector<std::function<void(Heartbeat&)>>{
           [](Heartbeat& x) { x.interval_ms = -1; },
           [](Heartbeat& x) { x.interval_ms = limits::kMaxHeartbeatIntervalMs + 1; },
           [](Heartbeat& x) { x.files = -1; }, [](Heartbeat& x) { x.url = "file:///etc/passwd"; },
           [](Heartbeat& x) { x.zone = "zone\x1b"; }}) {
    Heartbeat b = h;
    edit(b);
    EXPECT_FALSE(decode_heartbeat(encode_heartbeat(b)).ok());
  }
  // A small event padded past its limit is refused before parsing.
  std::string padded = encode_token_revoked(H("t"));
  padded.insert(1, "\"pad\":\"" + std::string(limits::kMaxSmallEventBytes, 'p') + "\",");
  EXPECT_FALSE(decode_token_revoked(padded).ok());
}

// A bounded mutation run (the libFuzzer targets go further): truncations, byte flips and
// insertions of valid bodies only ever give a value or kInvalidArgument.
TEST(EventDecoders, MutatedBodiesGiveAValueOrInvalidArgument) {
  auto f = good_file();
  const std::vector<std::string> seeds = {
      token_body(H("t")),
      encode_token_issued_batch({{H("a"), H("f"), 1, TimePoint(std::chrono::seconds(9))},
                                 {H("b"), H("f"), 2, TimePoint(std::chrono::seconds(9))}}),
      encode_token_revoked(H("t")),
      encode_file_available(f),
      encode_file_removed({"fs-a1", H("f")}),
      encode_heartbeat({"fs-a1", "zone-a", "http://h:1", 2000, 3})};
  std::mt19937 rng(11);
  const std::string alphabet = "{}[]\",:\\0123456789-.eE tfnula\x1b\xff\xc3";
  int cases = 0;
  for (const auto& seed : seeds) {
    for (int i = 0; i < 400; ++i) {
      std::string m = seed;
      switch (rng() % 3) {
        case 0:
          m.resize(rng() % (m.size() + 1));
          break;
        case 1:
          m[rng() % m.size()] = alphabet[rng() % alphabet.size()];
          break;
        default:
          m.insert(rng() % (m.size() + 1), 1, alphabet[rng() % alphabet.size()]);
      }
      for (const auto& [name, decode] : decoders()) {
        Status st = decode(m);
        EXPECT_TRUE(st.ok() || st.code() == Code::kInvalidArgument) << name << ": " << m;
        ++cases;
      }
    }
  }
  EXPECT_EQ(cases, 6 * 400 * 6);
}

}  // namespace
}  // namespace dfd::events
