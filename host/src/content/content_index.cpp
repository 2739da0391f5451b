// Placeholder until the index lands: reports NotSupported honestly.
#include "content/content_index.hpp"

namespace dfd::host {
struct ContentIndex::Impl {};
ContentIndex::ContentIndex(Storage&, Digest&, Logger&, Metrics&, ContentIndexOptions) {}
ContentIndex::~ContentIndex() = default;
Status ContentIndex::open() noexcept { return Status::NotSupported("content index not built yet"); }
Result<IndexChanges> ContentIndex::rescan() noexcept { return Status::NotSupported("content index not built yet"); }
std::shared_ptr<const IndexedFile> ContentIndex::find(const std::string&) const noexcept { return nullptr; }
std::vector<std::shared_ptr<const IndexedFile>> ContentIndex::all() const noexcept { return {}; }
std::size_t ContentIndex::size() const noexcept { return 0; }
}  // namespace dfd::host
