// Unit tests of the client's defences against hostile input (issue 11): bounded JSON, the
// manifest parser's error handling and the output name. The escaping function and every limit
// and consistency check of the manifest decoder are the wire library's, tested in
// tests/sdk/wire_manifest_test.cpp.
#include <gtest/gtest.h>

#include "bounded_json.hpp"
#include "dfd/chunks.hpp"
#include "manifest.hpp"
#include "util.hpp"

using namespace dfd::client;

namespace {
// A valid sha256 manifest of 5 bytes in chunks of 2, as an info server sends it.
nlohmann::json good_manifest() {
  const std::string a(64, 'a'), b(64, 'b'), c(64, 'c'), d(64, 'd');
  return nlohmann::json::parse(
      R"({"id":7,"uid":"aa","name":"f.bin","size":5,"digest":{"alg":"sha256","value":")" + a +
      R"("},"chunk_size":2,"chunks":[")" + b + R"(",")" + c + R"(",")" + d +
      R"("],"locations":[{"server_id":"fs-a","zone":"z","url":"http://127.0.0.1:1/"}],"download_token":"t"})");
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

// The wire decoder's refusals reach the user as CliError(kServer) naming the info server; a tree
// that is not even UTF-8 (built in code) is refused too, not thrown through as a JSON exception.
TEST(ManifestParse, RefusalsAreCliErrors) {
  auto j = good_manifest();
  j["chunk_size"] = 0;
  EXPECT_EQ(refusal(j), "the info server sent an invalid manifest: chunk_size is 0");
  j = good_manifest();
  j["name"] = "bad\xff";
  EXPECT_EQ(refusal(j), "the info server sent an invalid manifest: not UTF-8");
  try {
    parse_manifest_text(std::string(1000, '['));
  } catch (const CliError& e) {
    EXPECT_EQ(std::string(e.what()),
              "the info server sent an invalid manifest: nested deeper than 32 levels");
  }
  try {
    parse_file_list(nlohmann::json{{"files", 3}});
    ADD_FAILURE() << "a file list without a files array was accepted";
  } catch (const CliError& e) {
    EXPECT_EQ(e.exit_code, exit_code::kServer);
    EXPECT_NE(std::string(e.what()).find("the info server sent an invalid file list"),
              std::string::npos)
        << e.what();
  }
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
