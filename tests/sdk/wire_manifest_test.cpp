// Unit tests of the wire library's manifest and file-list codec (dfd/wire/manifest.hpp), bounded
// JSON (json_limits.hpp) and printable text (text.hpp): every limit and consistency check of the
// decoder (moved here from the client's hostile-input tests, issue 11), round trips, the exact
// bytes info servers have always sent, and the escaping of awkward names.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "dfd/wire/json_limits.hpp"
#include "dfd/wire/manifest.hpp"
#include "dfd/wire/text.hpp"

using namespace dfd::wire;
using json = nlohmann::json;

namespace {
// A valid sha256 manifest of 5 bytes in chunks of 2.
json good_manifest() {
  return {{"id", 7},
          {"uid", "aa"},
          {"name", "f.bin"},
          {"size", 5},
          {"digest", {{"alg", "sha256"}, {"value", std::string(64, 'a')}}},
          {"chunk_size", 2},
          {"chunks", {std::string(64, 'b'), std::string(64, 'c'), std::string(64, 'd')}},
          {"locations", {{{"server_id", "fs-a"}, {"zone", "z"}, {"url", "http://127.0.0.1:1/"}}}},
          {"download_token", "t"}};
}

// Why decode_manifest refuses `j`, "" when it accepts it.
std::string refusal(const json& j) {
  auto m = decode_manifest(j.dump());
  if (m.ok()) return "";
  EXPECT_EQ(m.status().code(), dfd::Code::kInvalidArgument);
  return m.status().message();
}

Manifest sample() {
  Manifest m;
  m.id = 7;
  m.uid = std::string(64, 'a');
  m.name = "videos/movie.bin";
  m.size = 5;
  m.alg = "sha256";
  m.digest = m.uid;
  m.chunk_size = 2;
  m.chunks = {std::string(64, 'b'), std::string(64, 'c'), std::string(64, 'd')};
  m.locations = {{"fs-a", "z1", "http://127.0.0.1:9101", true},
                 {"fs-b", "z2", "https://fs-b.example:8443", false}};
  m.download_token = "dl-Zm9v_YmFy-1";
  m.token_expires_at = "2030-01-01T00:00:00Z";
  return m;
}

// The escaping info servers used before the wire library (info-core's json_quote).
std::string old_json_quote(const std::string& s) {
  return json(s).dump(-1, ' ', false, json::error_handler_t::replace);
}
}  // namespace

TEST(WirePrintable, EscapesEveryControlCharacter) {
  EXPECT_EQ(printable("movie.bin"), "movie.bin");
  EXPECT_EQ(printable("caf\xc3\xa9 \xe6\x97\xa5"), "caf\xc3\xa9 \xe6\x97\xa5");  // UTF-8 passes
  EXPECT_EQ(printable("a\x1b[31mred"), "a\\x1b[31mred");
  EXPECT_EQ(printable(std::string("a\0b", 3)), "a\\x00b");
  EXPECT_EQ(printable("bell\a"), "bell\\x07");
  EXPECT_EQ(printable("l1\nl2\r\t"), "l1\\nl2\\r\\t");
  EXPECT_EQ(printable("l1\nl2", true), "l1\nl2");
  EXPECT_EQ(printable("del\x7f"), "del\\x7f");
  EXPECT_EQ(printable("csi\xc2\x9b"
                      "2J"),
            "csi\\u009b2J");                                              // C1 CSI in UTF-8
  EXPECT_EQ(printable("raw\x9b"), "raw\\x9b");                            // C1 as a raw byte
  EXPECT_EQ(printable("evil\xe2\x80\xaegnp.exe"), "evil\\u202egnp.exe");  // RTL override
  EXPECT_EQ(printable("\xc0\xaf"), "\\xc0\\xaf");                         // overlong '/'
  EXPECT_EQ(printable("\xed\xa0\x80"), "\\xed\\xa0\\x80");                // a surrogate
  EXPECT_EQ(printable("cut\xe6\x97"), "cut\\xe6\\x97");                   // truncated
  for (const std::string& s :
       std::vector<std::string>{"a\x1b"
                                "b",
                                std::string("x\0\n\x9b", 4), std::string("\\x1b")})
    EXPECT_EQ(printable(printable(s)), printable(s)) << s;  // idempotent
  EXPECT_TRUE(is_printable_text("movie.bin"));
  EXPECT_FALSE(is_printable_text("a\x1b"));
  EXPECT_FALSE(is_printable_text(std::string("a\0", 2)));
}

TEST(WireJsonLimits, EveryBound) {
  EXPECT_TRUE(check_json_limits("{\"a\":[1,2,{\"b\":3}]}").ok());
  EXPECT_EQ(check_json_limits("{\"a\":").message(), "not JSON");
  EXPECT_EQ(check_json_limits("").message(), "not JSON");
  EXPECT_EQ(check_json_limits("{} x").message(), "not JSON");
  EXPECT_NE(check_json_limits(std::string(100000, '[')).message().find("nested deeper"),
            std::string::npos);
  // Exactly the depth the client always allowed: 32 arrays around a value, 33 empty ones.
  auto nested = [](int n, const std::string& inner) {
    return std::string(n, '[') + inner + std::string(n, ']');
  };
  EXPECT_TRUE(check_json_limits(nested(32, "1")).ok());
  EXPECT_FALSE(check_json_limits(nested(33, "1")).ok());
  EXPECT_TRUE(check_json_limits(nested(33, "")).ok());
  EXPECT_FALSE(check_json_limits(nested(34, "")).ok());
  // Exactly kMaxValues values (keys count): the outer array is one of them.
  std::string many = "[";
  for (std::size_t i = 0; i + 1 < JsonLimits::kMaxValues; ++i) many += "1,";
  many.back() = ']';
  EXPECT_TRUE(check_json_limits(many).ok());
  many.back() = ',';
  many += "1]";
  EXPECT_NE(check_json_limits(many).message().find("JSON values"), std::string::npos);
  EXPECT_NE(check_json_limits(std::string(JsonLimits::kMaxBytes + 1, ' '))
                .message()
                .find("larger than 16 MiB"),
            std::string::npos);
  // The decoders apply it.
  EXPECT_NE(decode_manifest(std::string(1000, '[')).status().message().find("nested"),
            std::string::npos);
  EXPECT_NE(decode_file_list(many).status().message().find("JSON values"), std::string::npos);
  EXPECT_NE(decode_file_index("{\"files\":").status().message().find("not JSON"),
            std::string::npos);
}

TEST(WireManifestDecode, ValidatesShape) {
  auto j = good_manifest();
  auto m = decode_manifest(j.dump());
  ASSERT_TRUE(m.ok()) << m.status().to_string();
  EXPECT_EQ(m->id, 7);
  EXPECT_EQ(m->chunk_count(), 3u);
  EXPECT_EQ(m->chunk_length(2), 1u);
  EXPECT_EQ(m->chunk_length(3), 0u);
  EXPECT_EQ(m->locations[0].url, "http://127.0.0.1:1");
  EXPECT_TRUE(m->locations[0].healthy);
  EXPECT_EQ(m->download_token, "t");
  EXPECT_EQ(m->token_expires_at, "");
  EXPECT_FALSE(decode_manifest("{").ok());
  EXPECT_EQ(decode_manifest("[]").status().message(), "not a JSON object");
  j.erase("id");
  EXPECT_EQ(decode_manifest(j.dump())->id, 0);
  for (const char* key : {"uid", "name", "size", "digest", "chunk_size", "chunks"}) {
    auto k = good_manifest();
    k.erase(key);
    EXPECT_NE(refusal(k).find(std::string("'") + key + "'"), std::string::npos) << key;
  }
  j = good_manifest();
  j["digest"]["value"] = std::string(64, 'A');  // hex is lower-cased
  j["uid"] = "AA";
  j["locations"][0]["healthy"] = false;
  m = decode_manifest(j.dump());
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->digest, std::string(64, 'a'));
  EXPECT_EQ(m->uid, "aa");
  EXPECT_FALSE(m->locations[0].healthy);
  j["size"] = 5.0;
  EXPECT_NE(refusal(j).find("'size' is not an integer in range"), std::string::npos);
  j = good_manifest();
  j["name"] = 5;
  EXPECT_NE(refusal(j).find("bad type for 'name'"), std::string::npos);
  j = good_manifest();
  j["locations"][0] = "http://x";
  EXPECT_EQ(refusal(j), "a location is not an object");
  j = good_manifest();
  j["chunks"][1] = 5;
  EXPECT_EQ(refusal(j), "a chunk digest is not a string");
}

// Issue 11 #9: chunk_size 2^64-1 with "chunks": [] was accepted ((size + chunk_size - 1)
// overflowed to a count of 0) and a file of zeros then "verified".
TEST(WireManifestDecode, ChunkCountIsExact) {
  auto j = good_manifest();
  j["chunk_size"] = UINT64_MAX;
  j["chunks"] = json::array();
  EXPECT_NE(refusal(j), "");
  j["size"] = 1;
  EXPECT_NE(refusal(j), "");
  j["chunk_size"] = std::uint64_t{1} << 31;  // above 1 GiB
  j["chunks"] = {std::string(64, 'b')};
  EXPECT_NE(refusal(j).find("chunk_size"), std::string::npos);
  j = good_manifest();
  j["size"] = std::uint64_t{1} << 51;
  EXPECT_NE(refusal(j).find("size"), std::string::npos);
  j = good_manifest();
  j["size"] = std::uint64_t{1} << 40;
  j["chunk_size"] = 1;
  EXPECT_NE(refusal(j).find("limit"), std::string::npos);  // 2^40 chunks, not 2^40 allocations
  j = good_manifest();
  j["chunks"].push_back(std::string(64, 'e'));
  EXPECT_NE(refusal(j).find("expected 3 chunk digests"), std::string::npos) << refusal(j);
  j = good_manifest();
  j["size"] = -1;
  EXPECT_NE(refusal(j), "");
  j = good_manifest();
  j["chunk_size"] = 0;
  EXPECT_NE(refusal(j), "");
  j = good_manifest();
  j["size"] = 0;
  j["chunks"] = json::array();
  EXPECT_EQ(refusal(j), "");  // an empty file has no chunks
}

TEST(WireManifestDecode, DigestLengthsMatchTheAlgorithm) {
  auto j = good_manifest();
  j["chunks"][1] = std::string(128, 'c');  // sha512 length in a sha256 manifest
  EXPECT_NE(refusal(j).find("chunk digest 1"), std::string::npos) << refusal(j);
  j = good_manifest();
  j["digest"]["value"] = std::string(62, 'a');
  EXPECT_NE(refusal(j).find("whole-file digest"), std::string::npos);
  j = good_manifest();
  j["digest"]["alg"] = "sha512";  // digests are all sha256 long
  EXPECT_NE(refusal(j), "");
  j = good_manifest();
  j["digest"]["alg"] = "md5";
  EXPECT_NE(refusal(j).find("unsupported"), std::string::npos);
  j = good_manifest();
  j["chunks"][0] = std::string(63, 'b') + "g";
  EXPECT_NE(refusal(j), "");
  j = good_manifest();
  j["uid"] = "../../etc";
  EXPECT_NE(refusal(j).find("uid"), std::string::npos);
  // Every algorithm the client can hash, in any case and under its aliases.
  for (auto [alg, n] : std::vector<std::pair<std::string, std::size_t>>{{"sha256", 64},
                                                                        {"SHA-256", 64},
                                                                        {"sha512", 128},
                                                                        {"sha-512", 128},
                                                                        {"sha3-256", 64},
                                                                        {"blake2b-512", 128},
                                                                        {"blake2b512", 128},
                                                                        {"md5", 0}}) {
    EXPECT_EQ(digest_hex_length(alg), n) << alg;
    if (n == 0) continue;
    j = good_manifest();
    j["digest"] = {{"alg", alg}, {"value", std::string(n, 'a')}};
    j["chunks"] = {std::string(n, 'b'), std::string(n, 'c'), std::string(n, 'd')};
    EXPECT_EQ(refusal(j), "") << alg;
  }
}

// Issue 11 #5: only http and https locations.
TEST(WireManifestDecode, OnlyHttpLocations) {
  for (std::string url : {"gopher://127.0.0.1:6379/_FLUSHALL", "file:///etc/passwd", "ftp://x/",
                          "dict://x/", "HTTP//x", "//x", "", "http://a b", "http://a\"b",
                          "http://a<b", "http://a\\b", "http://a{b"}) {
    auto j = good_manifest();
    j["locations"][0]["url"] = url;
    EXPECT_NE(refusal(j), "") << url;
  }
  auto j = good_manifest();
  j["locations"][0]["url"] = "gopher://127.0.0.1:1/";
  EXPECT_NE(refusal(j).find("only http:// and https:// URLs are allowed"), std::string::npos)
      << refusal(j);
  j["locations"][0]["url"] = "HTTPS://example.org:8443";
  EXPECT_EQ(refusal(j), "");
  j["locations"][0]["url"] = "https://example.org:8443///";
  EXPECT_EQ(decode_manifest(j.dump())->locations[0].url, "https://example.org:8443");
}

// Issue 11 #8: control characters in a manifest are refused, whatever field they are in.
TEST(WireManifestDecode, ControlCharactersAreRefused) {
  for (std::string name :
       {std::string("a\0b", 3), std::string("\x1b[2Jx"), std::string("a\nb"), std::string("bell\a"),
        std::string("del\x7f"), std::string("c1\xc2\x9b"), std::string("")}) {
    auto j = good_manifest();
    j["name"] = name;
    std::string why = refusal(j);
    EXPECT_NE(why, "") << printable(name);
    EXPECT_TRUE(is_printable_text(why)) << why;  // the refusal itself prints it escaped
  }
  for (const char* key : {"server_id", "zone"}) {
    auto j = good_manifest();
    j["locations"][0][key] = "fs\x1b]0;pwned\x07";
    EXPECT_NE(refusal(j), "") << key;
  }
  auto j = good_manifest();
  j["download_token"] = "t\r\nX-Injected: 1";
  EXPECT_NE(refusal(j), "");
  j["download_token"] = "t u";
  EXPECT_EQ(refusal(j), "'download_token' holds blanks");
  j = good_manifest();
  j["token_expires_at"] = "2030\x1b";
  EXPECT_NE(refusal(j), "");
}

// Every ManifestLimits bound: the value at the limit is accepted, one more is refused.
TEST(WireManifestDecode, CountsAndLengthsAreBounded) {
  using L = ManifestLimits;
  auto j = good_manifest();
  for (std::size_t i = 1; i < L::kMaxLocations; ++i) j["locations"].push_back(j["locations"][0]);
  EXPECT_EQ(refusal(j), "");
  j["locations"].push_back(j["locations"][0]);
  EXPECT_NE(refusal(j).find("locations"), std::string::npos);
  auto at_and_over = [](const std::function<void(json&, std::size_t)>& set, std::size_t limit,
                        const std::string& what) {
    auto k = good_manifest();
    set(k, limit);
    EXPECT_EQ(refusal(k), "") << what << " at the limit";
    set(k, limit + 1);
    EXPECT_NE(refusal(k), "") << what << " over the limit";
  };
  at_and_over([](json& k, std::size_t n) { k["name"] = std::string(n, 'n'); }, L::kMaxName, "name");
  at_and_over([](json& k, std::size_t n) { k["uid"] = std::string(n, 'a'); }, L::kMaxUid, "uid");
  at_and_over([](json& k, std::size_t n) { k["locations"][0]["server_id"] = std::string(n, 's'); },
              L::kMaxId, "server_id");
  at_and_over([](json& k, std::size_t n) { k["locations"][0]["zone"] = std::string(n, 'z'); },
              L::kMaxId, "zone");
  at_and_over([](json& k, std::size_t n) { k["token_expires_at"] = std::string(n, '2'); },
              L::kMaxId, "token_expires_at");
  at_and_over(
      [](json& k, std::size_t n) {
        k["locations"][0]["url"] = "http://x/" + std::string(n - 9, 'p');
      },
      L::kMaxUrl, "url");
  at_and_over([](json& k, std::size_t n) { k["download_token"] = std::string(n, 't'); },
              L::kMaxToken, "download_token");
  // size, chunk_size and the chunk count (without building a million digests).
  j = good_manifest();
  j["size"] = L::kMaxSize + 1;
  j["chunk_size"] = L::kMaxChunkSize;
  EXPECT_NE(refusal(j).find("size " + std::to_string(L::kMaxSize + 1)), std::string::npos);
  j["size"] = L::kMaxSize;  // 2^20 chunks of 1 GiB: the count is fine, the list is short
  EXPECT_NE(refusal(j).find("expected 1048576 chunk digests"), std::string::npos) << refusal(j);
  j["chunk_size"] = L::kMaxChunkSize + 1;
  EXPECT_NE(refusal(j).find("chunk_size 1073741825 is above the limit"), std::string::npos);
  j["chunk_size"] = L::kMaxChunkSize / 2;  // 2^21 chunks
  EXPECT_NE(refusal(j).find("2097152 chunks are above the limit of 1048576"), std::string::npos);
}

TEST(WireManifestEncode, RoundTrip) {
  Manifest m = sample();
  auto back = decode_manifest(encode_manifest(m));
  ASSERT_TRUE(back.ok()) << back.status().to_string();
  EXPECT_EQ(*back, m);
  // The cacheable part and the tail make the same bytes as the whole.
  std::string parts;
  append_chunked_file_fields(parts, m);
  append_manifest_tail(parts, m.locations, m.download_token, m.token_expires_at);
  EXPECT_EQ(parts, encode_manifest(m));
  // Without locations and token.
  auto bare = decode_manifest(encode_chunked_file(m));
  ASSERT_TRUE(bare.ok());
  EXPECT_EQ(static_cast<const ChunkedFile&>(*bare), static_cast<const ChunkedFile&>(m));
  EXPECT_TRUE(bare->locations.empty());
  // An empty file.
  m.size = 0;
  m.chunks.clear();
  EXPECT_EQ(*decode_manifest(encode_manifest(m)), m);
}

// The exact bytes an info server sends: what info-core wrote by hand before the wire library,
// field for field, so that clients of every release keep reading them.
TEST(WireManifestEncode, PinnedBytes) {
  Manifest m = sample();
  m.locations.pop_back();
  const std::string a(64, 'a'), b(64, 'b'), c(64, 'c'), d(64, 'd');
  EXPECT_EQ(
      encode_manifest(m),
      "{\"id\":7,\"uid\":\"" + a +
          "\",\"name\":\"videos/movie.bin\",\"size\":5,"
          "\"digest\":{\"alg\":\"sha256\",\"value\":\"" +
          a +
          "\"},\"chunk_size\":2,"
          "\"chunks\":[\"" +
          b + "\",\"" + c + "\",\"" + d +
          "\"],"
          "\"locations\":[{\"server_id\":\"fs-a\",\"zone\":\"z1\","
          "\"url\":\"http://127.0.0.1:9101\",\"healthy\":true}],"
          "\"download_token\":\"dl-Zm9v_YmFy-1\",\"token_expires_at\":\"2030-01-01T00:00:00Z\"}");
  FileList list;
  list.files = {m, m};
  list.files[0].available = true;
  list.files[1].id = 8;
  list.files[1].available = false;
  list.total = 12;
  const std::string row = "\"uid\":\"" + a + "\",\"name\":\"videos/movie.bin\",\"size\":5," +
                          "\"digest\":{\"alg\":\"sha256\",\"value\":\"" + a + "\"}";
  EXPECT_EQ(encode_file_list(list), "{\"files\":[{\"id\":7," + row +
                                        ",\"available\":true},{\"id\":8," + row +
                                        ",\"available\":false}],\"total\":12}");
}

TEST(WireManifestEncode, EscapesAwkwardNames) {
  struct Case {
    std::string name, literal;
  };
  for (const Case& c : std::vector<Case>{
           {"say \"hi\".txt", "\"say \\\"hi\\\".txt\""},
           {"back\\slash", "\"back\\\\slash\""},
           {"caf\xc3\xa9/\xe6\x97\xa5\xe6\x9c\xac.bin",
            "\"caf\xc3\xa9/\xe6\x97\xa5\xe6\x9c\xac.bin\""},
           {"emoji \xf0\x9f\x98\x80", "\"emoji \xf0\x9f\x98\x80\""},
           {std::string("c\0\x01\x1f\x7f", 5), "\"c\\u0000\\u0001\\u001f\x7f\""},
           {"\b\f\n\r\t", "\"\\b\\f\\n\\r\\t\""},
           {"slash/ok", "\"slash/ok\""},
           {"bad\xff utf8", "\"bad\xef\xbf\xbd utf8\""},
       }) {
    std::string out;
    append_json_string(out, c.name);
    EXPECT_EQ(out, c.literal) << printable(c.name);
    EXPECT_EQ(out, old_json_quote(c.name)) << printable(c.name);  // as info servers always did
    EXPECT_EQ(json::parse(out).get<std::string>(),
              c.name.find('\xff') == std::string::npos ? c.name : "bad\xef\xbf\xbd utf8");
  }
  // Invalid UTF-8 anywhere: the same replacement as before.
  for (const std::string& s : {std::string("\xc0\xaf"), std::string("a\xed\xa0\x80z"),
                               std::string("cut\xe6\x97"), std::string("\x80\x80x\xf5")}) {
    std::string out;
    append_json_string(out, s);
    EXPECT_EQ(out, old_json_quote(s)) << printable(s);
  }
  // Printable awkward names survive the round trip; control characters are escaped on the way
  // out and refused on the way in.
  Manifest m = sample();
  for (std::string name : {"say \"hi\".txt", "back\\slash", "caf\xc3\xa9/\xe6\x97\xa5.bin"}) {
    m.name = name;
    auto back = decode_manifest(encode_manifest(m));
    ASSERT_TRUE(back.ok()) << back.status().to_string();
    EXPECT_EQ(back->name, name);
  }
  m.name = "a\x1b[2J";
  std::string text = encode_manifest(m);
  EXPECT_NE(text.find("a\\u001b[2J"), std::string::npos);
  EXPECT_NE(decode_manifest(text).status().message().find("control characters"), std::string::npos);
}

TEST(WireFileList, Decode) {
  auto l = decode_file_list(R"({"files": [
      {"id": 1, "uid": "aa", "name": "a", "size": 1, "available": true,
       "digest": {"alg": "SHA256", "value": "AB"}},
      {"id": 2, "uid": "bb", "name": "b", "size": 1, "available": false},
      {"id": 3, "name": "c", "size": 1, "available": "yes"}], "total": 3})");
  ASSERT_TRUE(l.ok()) << l.status().to_string();
  ASSERT_EQ(l->files.size(), 3u);
  EXPECT_EQ(l->total, std::optional<std::uint64_t>(3));
  EXPECT_EQ(l->files[0].available, std::optional<bool>(true));
  EXPECT_EQ(l->files[0].alg, "sha256");
  EXPECT_EQ(l->files[0].digest, "ab");
  EXPECT_EQ(l->files[1].available, std::optional<bool>(false));
  EXPECT_FALSE(l->files[2].available.has_value());
  EXPECT_EQ(l->files[2].uid, "");
  EXPECT_FALSE(decode_file_list(R"({"files": []})")->total.has_value());
  EXPECT_NE(decode_file_list(R"({"file": []})").status().message().find("'files'"),
            std::string::npos);
  EXPECT_NE(decode_file_list(R"({"files": [{"name": "a", "size": 1}]})")
                .status()
                .message()
                .find("missing 'id'"),
            std::string::npos);
  EXPECT_FALSE(decode_file_list(R"({"files": [{"id": 1, "name": "a", "size": -1}]})").ok());
  // Round trip.
  FileList list = *l;
  list.files[0].digest = "ab";
  EXPECT_EQ(decode_file_list(encode_file_list(list))->files, list.files);
}

TEST(WireFileIndex, RoundTripAndChecks) {
  ChunkedFile f = sample();
  f.id = 0;
  ChunkedFile g = f;
  g.name = "other \"one\".bin";
  g.size = 2;
  g.chunks = {std::string(64, 'e')};
  g.digest = g.uid = std::string(64, 'f');
  const std::string text = encode_file_index({f, g});
  EXPECT_EQ(text.find("\"id\""), std::string::npos);
  EXPECT_EQ(text.find("\"uid\""), std::string::npos);
  auto back = decode_file_index(text);
  ASSERT_TRUE(back.ok()) << back.status().to_string();
  ASSERT_EQ(back->size(), 2u);
  EXPECT_EQ((*back)[0], f);
  EXPECT_EQ((*back)[1], g);
  EXPECT_TRUE(decode_file_index("{\"files\":[]}")->empty());

  auto entry = [] {
    return json{{"name", "a.bin"},
                {"size", 3},
                {"digest", {{"alg", "sha256"}, {"value", std::string(64, 'a')}}},
                {"chunk_size", 2},
                {"chunks", {std::string(64, 'b'), std::string(64, 'c')}}};
  };
  auto why = [](const std::vector<json>& files) {
    auto r = decode_file_index(json{{"files", files}}.dump());
    return r.ok() ? std::string() : r.status().message();
  };
  EXPECT_EQ(why({entry()}), "");
  EXPECT_NE(why({entry(), entry()}).find("listed twice"), std::string::npos);
  auto e = entry();
  e["chunks"].erase(1);
  EXPECT_NE(why({e}).find("expected 2 chunk digests"), std::string::npos);
  e = entry();
  e["uid"] = "zz";
  EXPECT_NE(why({e}).find("uid is not hex"), std::string::npos);
  e = entry();
  e["name"] = "a\nb";
  EXPECT_NE(why({e}).find("control characters"), std::string::npos);
  e = entry();
  e.erase("digest");
  EXPECT_NE(why({e}).find("missing 'digest'"), std::string::npos);
  EXPECT_EQ(why({json(5)}), "a file index entry is not an object");
  EXPECT_NE(decode_file_index("[]").status().message().find("not a file index"), std::string::npos);
}
