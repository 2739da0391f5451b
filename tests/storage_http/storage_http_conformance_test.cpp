// The storage conformance kit against storage-http: the kit's files served by a real nginx
// origin, indexed by `dfd-host index` (64 KiB chunks, so data.bin spans 17 of them), each test
// with an empty cache. Hidden files are at the origin but not in the index (the tool skips them).
#include <memory>

#include "dfd/testing/storage_conformance.hpp"
#include "origin_fixture.hpp"

namespace {

dfd::test::NginxOrigin& origin() {
  static dfd::test::NginxOrigin* o = new dfd::test::NginxOrigin();  // stopped at exit (below)
  return *o;
}

struct HttpSet {
  dfd::test::TempDir cache;
  std::shared_ptr<dfd::test::HttpUnderTest> sut;
};

dfd::conformance::StorageUnderTest make_storage_http(
    const std::vector<dfd::conformance::ConformanceFile>& files) {
  static int sets = 0;
  const std::string set = "set" + std::to_string(++sets);
  const std::string root = origin().www() + "/" + set;
  // Real files next to the set, so "../x" and "a/../../b" would exist at the origin if followed.
  dfd::test::write_file(origin().www() + "/x", "outside\n");
  dfd::test::write_file(origin().www() + "/b", "outside\n");
  for (auto& f : files) dfd::test::write_file(root + "/" + f.path, f.content);
  dfd::test::write_origin_index(root, 65536);
  auto owner = std::make_shared<HttpSet>();
  owner->sut = dfd::test::load_storage_http({{"origin", origin().url(set + "/")},
                                             {"cache_dir", owner->cache.file("cache")},
                                             {"index_refresh_s", std::int64_t{0}},
                                             {"timeout_ms", std::int64_t{5000}}});
  if (!owner->sut->plugin.get()) {
    ADD_FAILURE() << "load storage-http: " << owner->sut->start_status.to_string();
    return {};
  }
  return {owner->sut->storage(), owner};
}

struct StopOrigin : ::testing::Environment {
  void TearDown() override { delete &origin(); }
};
const auto* const kStopOrigin = ::testing::AddGlobalTestEnvironment(new StopOrigin);

}  // namespace

DFD_STORAGE_CONFORMANCE(StorageHttp, make_storage_http);
