// The storage conformance kit run against storage-fs, loaded from build/plugins like the host does.
#include <sys/stat.h>

#include <memory>

#include "dfd/testing/storage_conformance.hpp"
#include "fake_host.hpp"
#include "harness.hpp"

namespace {

// Everything one conformance test needs, destroyed in reverse order (plugin, host, files).
struct FsUnderTest {
  dfd::test::TempDir dir;
  std::unique_ptr<dfd::test::FakeHost> host;
  dfd::test::LoadedPlugin plugin;
};

dfd::conformance::StorageUnderTest make_storage_fs(
    const std::vector<dfd::conformance::ConformanceFile>& files) {
  auto owner = std::make_shared<FsUnderTest>();
  std::string root = owner->dir.file("root");
  ::mkdir(root.c_str(), 0755);
  // Real files just outside the root, so "../x" and "a/../../b" would exist if followed.
  dfd::test::write_file(owner->dir.file("x"), "outside\n");
  dfd::test::write_file(owner->dir.file("b"), "outside\n");
  for (auto& f : files) dfd::test::write_file(root + "/" + f.path, f.content);
  owner->host = std::make_unique<dfd::test::FakeHost>(
      std::map<std::string, dfd::test::ConfigValue>{{"root", root}, {"settle_ms", std::int64_t{0}}},
      "storage-fs");
  auto lp = dfd::test::load_plugin("storage-fs", *owner->host);
  if (!lp.ok()) {
    ADD_FAILURE() << "load storage-fs: " << lp.status().to_string();
    return {};
  }
  owner->plugin = std::move(lp.value());
  return {owner->plugin.as<dfd::Storage>(), owner};
}

}  // namespace

DFD_STORAGE_CONFORMANCE(StorageFs, make_storage_fs);
