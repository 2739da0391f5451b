// The storage conformance kit run against the one-file example plugin (storage-example), which
// serves the files named in a manifest and offers read_at() only (no descriptor).
#include <sys/stat.h>

#include <memory>

#include "dfd/testing/storage_conformance.hpp"
#include "fake_host.hpp"
#include "harness.hpp"

namespace {

struct ExampleUnderTest {
  dfd::test::TempDir dir;
  std::unique_ptr<dfd::test::FakeHost> host;
  dfd::test::LoadedPlugin plugin;
};

dfd::conformance::StorageUnderTest make_storage_example(
    const std::vector<dfd::conformance::ConformanceFile>& files) {
  auto owner = std::make_shared<ExampleUnderTest>();
  std::string root = owner->dir.file("root");
  ::mkdir(root.c_str(), 0755);
  dfd::test::write_file(owner->dir.file("x"), "outside\n");
  dfd::test::write_file(owner->dir.file("b"), "outside\n");
  // The manifest names every file, hidden ones and an escape attempt included: the plugin must
  // still refuse those.
  std::string manifest = "# conformance set\n../x\n";
  for (auto& f : files) {
    dfd::test::write_file(root + "/" + f.path, f.content);
    manifest += f.path + "\n";
  }
  dfd::test::write_file(root + "/MANIFEST", manifest);
  owner->host = std::make_unique<dfd::test::FakeHost>(
      std::map<std::string, dfd::test::ConfigValue>{{"manifest", root + "/MANIFEST"}},
      "storage-example");
  auto lp = dfd::test::load_plugin("storage-example", *owner->host);
  if (!lp.ok()) {
    ADD_FAILURE() << "load storage-example: " << lp.status().to_string();
    return {};
  }
  owner->plugin = std::move(lp.value());
  return {owner->plugin.as<dfd::Storage>(), owner};
}

}  // namespace

DFD_STORAGE_CONFORMANCE(StorageExample, make_storage_example);
