// Unit tests of the client's defences against hostile input (issue 11): the one escaping
// function, bounded JSON, and every limit and consistency check of the manifest parser.
#include <gtest/gtest.h>

#include "bounded_json.hpp"
#include "dfd/chunks.hpp"
#include "manifest.hpp"
#include "util.hpp"

using namespace dfd::client;

namespace {
// A valid sha256 manifest of 5 bytes in chunks of 2.
nlohmann::json good_manifest() {
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

// The message parse_manifest throws for `j`, "" when it accepts it.
std::string refusal(const nlohmann::json& j) {
  try {
    parse_manifest(j);
    return "";
  } catch (const CliError& e) {
    EXPECT_EQ(e.exit_code, exit_code::kServer);
    return e.what();
  }
}
}  // namespace

TEST(Printable, EscapesEveryControlCharacter) {
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

TEST(ChunkCount, ExactWithoutOverflow) {
  EXPECT_EQ(dfd::chunk_count(0, 4), 0u);
  EXPECT_EQ(dfd::chunk_count(4, 4), 1u);
  EXPECT_EQ(dfd::chunk_count(5, 4), 2u);
  EXPECT_EQ(dfd::chunk_count(UINT64_MAX, UINT64_MAX), 1u);
  EXPECT_EQ(dfd::chunk_count(1, UINT64_MAX), 1u);  // (size + chunk - 1) / chunk overflowed to 0
  EXPECT_EQ(dfd::chunk_count(UINT64_MAX, 1), UINT64_MAX);
  EXPECT_EQ(dfd::chunk_count(5, 0), 0u);
}

TEST(BoundedJson, Limits) {
  std::string why;
  EXPECT_TRUE(parse_bounded_json("{\"a\":[1,2,{\"b\":3}]}", &why));
  EXPECT_FALSE(parse_bounded_json("{\"a\":", &why));
  EXPECT_EQ(why, "not JSON");
  EXPECT_FALSE(parse_bounded_json(std::string(100000, '['), &why));
  EXPECT_NE(why.find("nested deeper"), std::string::npos) << why;
  std::string many = "[";
  for (std::size_t i = 0; i < kMaxJsonValues + 1; ++i) many += "1,";
  many += "1]";
  EXPECT_FALSE(parse_bounded_json(many, &why));
  EXPECT_NE(why.find("JSON values"), std::string::npos) << why;
  EXPECT_FALSE(parse_bounded_json(std::string(kMaxJsonBytes + 1, ' '), &why));
  EXPECT_NE(why.find("larger than 16 MiB"), std::string::npos) << why;
}

TEST(ManifestParse, ValidatesShape) {
  auto j = good_manifest();
  auto m = parse_manifest(j);
  EXPECT_EQ(m.chunk_count(), 3u);
  EXPECT_EQ(m.chunk_length(2), 1u);
  EXPECT_EQ(m.locations[0].url, "http://127.0.0.1:1");
  EXPECT_EQ(parse_manifest_text(j.dump()).uid, "aa");
  EXPECT_THROW(parse_manifest_text("{"), CliError);
  EXPECT_THROW(parse_manifest_text("[]"), CliError);
  EXPECT_THROW(parse_manifest_text(std::string(1000, '[')), CliError);
}

// Issue 11 #9: chunk_size 2^64-1 with "chunks": [] was accepted ((size + chunk_size - 1)
// overflowed to a count of 0) and a file of zeros then "verified".
TEST(ManifestParse, ChunkCountIsExact) {
  auto j = good_manifest();
  j["chunk_size"] = UINT64_MAX;
  j["chunks"] = nlohmann::json::array();
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
  j["chunks"] = nlohmann::json::array();
  EXPECT_EQ(refusal(j), "");  // an empty file has no chunks
}

TEST(ManifestParse, DigestLengthsMatchTheAlgorithm) {
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
}

// Issue 11 #5: only http and https locations.
TEST(ManifestParse, OnlyHttpLocations) {
  for (std::string url : {"gopher://127.0.0.1:6379/_FLUSHALL", "file:///etc/passwd", "ftp://x/",
                          "dict://x/", "HTTP//x", "//x", "", "http://a b"}) {
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
}

// Issue 11 #8: control characters in a manifest are refused, whatever field they are in.
TEST(ManifestParse, ControlCharactersAreRefused) {
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
}

TEST(ManifestParse, CountsAndLengthsAreBounded) {
  auto j = good_manifest();
  for (int i = 0; i < 64; ++i) j["locations"].push_back(j["locations"][0]);
  EXPECT_NE(refusal(j).find("locations"), std::string::npos);
  j = good_manifest();
  j["name"] = std::string(4097, 'n');
  EXPECT_NE(refusal(j), "");
  j = good_manifest();
  j["locations"][0]["url"] = "http://x/" + std::string(2048, 'p');
  EXPECT_NE(refusal(j), "");
  j = good_manifest();
  j["download_token"] = std::string(8193, 't');
  EXPECT_NE(refusal(j), "");
}

TEST(DefaultOutputName, RefusesTraversalAndControlCharacters) {
  EXPECT_EQ(default_output_name("movie.bin"), "movie.bin");
  EXPECT_EQ(default_output_name("videos/2026/movie.bin"), "movie.bin");
  for (const std::string& n :
       std::vector<std::string>{"", ".", "..", "../x", "a/../../b", "/etc/passwd", "a/", "a//b",
                                "./a", "a\x1b", std::string(256, 'x')})
    EXPECT_THROW(default_output_name(n), CliError) << printable(n);
  try {
    default_output_name("../../x\x1b");
  } catch (const CliError& e) {
    EXPECT_EQ(e.exit_code, exit_code::kUsage);
    EXPECT_NE(std::string(e.what()).find("give -o PATH"), std::string::npos);
    EXPECT_TRUE(is_printable_text(e.what())) << e.what();
  }
}
