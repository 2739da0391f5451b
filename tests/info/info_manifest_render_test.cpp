// info-core's manifest and list bodies come from the wire encoder (render() caches the file part,
// the routes append the per-request part): the bytes are what info servers have always sent, and
// the wire decoder (the client's) reads them back to the same values, awkward names included.
#include <gtest/gtest.h>

#include "catalog.hpp"
#include "catalog_rules.hpp"
#include "dfd/wire/manifest.hpp"

namespace {

dfd::info::CatalogFile catalog_file(std::string name) {
  dfd::info::CatalogFile f;
  f.id = 7;
  f.uid = std::string(64, 'a');
  f.name = std::move(name);
  f.size = 5;
  f.alg = "sha256";
  f.chunk_size = 2;
  f.chunks = {std::string(64, 'b'), std::string(64, 'c'), std::string(64, 'd')};
  dfd::info::render(f);
  return f;
}

// What the manifest route sends for `f` (catalog_routes.cpp).
std::string manifest_body(const dfd::info::CatalogFile& f,
                          const std::vector<dfd::info::LiveLocation>& locations) {
  std::string body = f.manifest_json;
  dfd::wire::append_manifest_tail(body, locations, "tok-1", "2030-01-01T00:00:00Z");
  return body;
}

}  // namespace

TEST(InfoManifestRender, BytesAsBeforeTheWireLibrary) {
  auto f = catalog_file("videos/movie.bin");
  const std::string a(64, 'a'), b(64, 'b'), c(64, 'c'), d(64, 'd');
  const std::string summary = "{\"id\":7,\"uid\":\"" + a +
                              "\",\"name\":\"videos/movie.bin\",\"size\":5,\"digest\":{\"alg\":"
                              "\"sha256\",\"value\":\"" +
                              a + "\"}";
  EXPECT_EQ(f.list_json, summary);
  EXPECT_EQ(f.manifest_json,
            summary + ",\"chunk_size\":2,\"chunks\":[\"" + b + "\",\"" + c + "\",\"" + d + "\"]");
  EXPECT_EQ(manifest_body(f, {{"fs-a", "zone-a", "http://127.0.0.1:9101"}}),
            f.manifest_json +
                ",\"locations\":[{\"server_id\":\"fs-a\",\"zone\":\"zone-a\",\"url\":\"http://"
                "127.0.0.1:9101\",\"healthy\":true}],\"download_token\":\"tok-1\","
                "\"token_expires_at\":\"2030-01-01T00:00:00Z\"}");
}

TEST(InfoManifestRender, TheClientDecoderReadsItBack) {
  for (std::string name :
       {"movie.bin", "say \"hi\".txt", "back\\slash\\x", "caf\xc3\xa9/日本.bin"}) {
    auto f = catalog_file(name);
    auto m = dfd::wire::decode_manifest(
        manifest_body(f, {{"fs-a", "zone-a", "http://127.0.0.1:9101"},
                          {"fs-b", "zone-\"b\"", "https://[::1]:9102"}}));
    ASSERT_TRUE(m.ok()) << name << ": " << m.status().to_string();
    EXPECT_EQ(m->name, name);
    EXPECT_EQ(static_cast<const dfd::wire::ChunkedFile&>(*m),
              static_cast<const dfd::wire::ChunkedFile&>(f));
    ASSERT_EQ(m->locations.size(), 2u);
    EXPECT_EQ(m->locations[1].zone, "zone-\"b\"");
    EXPECT_EQ(m->download_token, "tok-1");

    std::string list;
    dfd::wire::append_file_list_begin(list);
    dfd::wire::append_file_list_row(list, true, f.list_json, true);
    dfd::wire::append_file_list_row(list, false, f.list_json, false);
    dfd::wire::append_file_list_end(list, 2);
    auto l = dfd::wire::decode_file_list(list);
    ASSERT_TRUE(l.ok()) << l.status().to_string();
    ASSERT_EQ(l->files.size(), 2u);
    EXPECT_EQ(l->files[0].name, name);
    EXPECT_EQ(l->files[0].digest, f.uid);
    EXPECT_EQ(l->files[1].available, std::optional<bool>(false));
    EXPECT_EQ(l->total, std::optional<std::uint64_t>(2));
  }
}
