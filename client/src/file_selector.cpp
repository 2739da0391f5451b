#include "file_selector.hpp"

#include <fnmatch.h>

#include <algorithm>

#include "api_client.hpp"
#include "text_table.hpp"

namespace dfd::client {

namespace {
bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool all_hex(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
  });
}

bool starts_with(std::string_view s, std::string_view p) {
  return s.substr(0, p.size()) == p;
}

// A prefix long enough to tell `files` apart (at least 12 characters, the whole uid at most):
// neighbours in sorted order share the longest prefixes.
std::size_t distinguishing_length(const std::vector<FileEntry>& files) {
  std::vector<std::string> uids;
  for (const auto& f : files) uids.push_back(f.uid);
  std::sort(uids.begin(), uids.end());
  std::size_t n = 12;
  for (std::size_t i = 1; i < uids.size(); ++i) {
    const auto& a = uids[i - 1];
    const auto& b = uids[i];
    std::size_t k = 0;
    while (k < a.size() && k < b.size() && a[k] == b[k]) ++k;
    n = std::max(n, k + 1);
  }
  return n;
}

AmbiguousFile ambiguous(const std::string& what, std::vector<FileEntry> files,
                        const std::string& hint) {
  std::sort(files.begin(), files.end(),
            [](const FileEntry& a, const FileEntry& b) { return a.id < b.id; });
  std::string msg = what + " matches " + std::to_string(files.size()) + " files (" + hint + "):\n" +
                    candidate_table(files);
  if (!msg.empty() && msg.back() == '\n') msg.pop_back();
  return AmbiguousFile(msg, std::move(files));
}
}  // namespace

FileSpec parse_file_spec(const std::string& arg) {
  FileSpec s;
  s.arg = arg;
  if (arg.empty()) throw CliError(exit_code::kUsage, "empty file argument");
  if (starts_with(arg, "id:")) {
    s.kind = FileSpec::Kind::kId;
    s.value = arg.substr(3);
    if (!all_digits(s.value))
      throw CliError(exit_code::kUsage, "'" + printable(arg) + "': an id is all digits (id:7)");
  } else if (starts_with(arg, "name:")) {
    s.kind = FileSpec::Kind::kName;
    s.value = arg.substr(5);
    if (s.value.empty()) throw CliError(exit_code::kUsage, "'name:' without a name");
  } else if (starts_with(arg, "uid:")) {
    s.kind = FileSpec::Kind::kUid;
    s.value = lower(arg.substr(4));
    if (!all_hex(s.value) || s.value.size() < kMinUidPrefix)
      throw CliError(exit_code::kUsage, "'" + printable(arg) + "': a uid prefix is at least " +
                                            std::to_string(kMinUidPrefix) + " hex digits");
  } else if (all_digits(arg)) {
    s.kind = FileSpec::Kind::kId;
    s.value = arg;
  } else {
    s.value = arg;
  }
  if (s.kind == FileSpec::Kind::kId) {
    s.value.erase(0, std::min(s.value.find_first_not_of('0'), s.value.size() - 1));
    if (s.value.size() > 18)
      throw CliError(exit_code::kNotFound, "file " + printable(arg) + ": no such id");
  }
  return s;
}

bool is_id_spec(const FileSpec& spec) {
  return spec.kind == FileSpec::Kind::kId;
}

FileEntry select_file(const std::vector<FileEntry>& files, const FileSpec& spec) {
  const std::string shown = "'" + printable(spec.arg) + "'";
  if (spec.kind == FileSpec::Kind::kId) {
    for (const auto& f : files)
      if (std::to_string(f.id) == spec.value) return f;
    throw CliError(exit_code::kNotFound, "file " + printable(spec.arg) + ": no such id");
  }
  if (spec.kind != FileSpec::Kind::kUid) {
    std::vector<FileEntry> named;
    for (const auto& f : files)
      if (f.name == spec.value) named.push_back(f);
    if (named.size() == 1) return named.front();
    if (named.size() > 1)
      throw ambiguous("the name " + shown, std::move(named),
                      "the same name, different bytes; give the id or a uid prefix");
    if (spec.kind == FileSpec::Kind::kName)
      throw CliError(exit_code::kNotFound,
                     "no file named " + shown + " (names are exact; see 'dfd ls')");
  }
  std::string prefix = lower(spec.value);
  bool may_be_uid = all_hex(prefix) && prefix.size() >= kMinUidPrefix;
  if (may_be_uid) {
    std::vector<FileEntry> hits;
    for (const auto& f : files)
      if (starts_with(lower(f.uid), prefix)) hits.push_back(f);
    if (hits.size() == 1) return hits.front();
    if (hits.size() > 1)
      throw ambiguous("the uid prefix " + shown, std::move(hits),
                      "give more digits of the uid, or the id");
  }
  if (spec.kind == FileSpec::Kind::kUid)
    throw CliError(exit_code::kNotFound, "no file has a uid starting with " + shown);
  std::string hint =
      all_hex(prefix) && prefix.size() < kMinUidPrefix
          ? " (a uid prefix needs at least " + std::to_string(kMinUidPrefix) + " hex digits)"
          : "";
  throw CliError(exit_code::kNotFound, "no file named " + shown +
                                           (may_be_uid ? " or with a uid starting with it" : "") +
                                           hint + "; names are exact (see 'dfd ls')");
}

std::string candidate_table(const std::vector<FileEntry>& files) {
  std::size_t ulen = distinguishing_length(files);
  std::size_t shown = std::min(files.size(), kMaxCandidatesShown);
  std::vector<std::vector<std::string>> rows = {{"ID", "NAME", "SIZE", "UID"}};
  for (std::size_t i = 0; i < shown; ++i)
    rows.push_back({std::to_string(files[i].id), printable(files[i].name),
                    human_size(files[i].size), printable(files[i].uid.substr(0, ulen))});
  std::string out = format_table(rows, {false, false, true, false}, "  ");
  if (shown < files.size())
    out += "  ... and " + std::to_string(files.size() - shown) + " more (see 'dfd ls')\n";
  return out;
}

std::vector<FileEntry> matching_globs(std::vector<FileEntry> files,
                                      const std::vector<std::string>& globs) {
  if (globs.empty()) return files;
  auto matches = [&](const FileEntry& f) {
    return std::any_of(globs.begin(), globs.end(), [&](const std::string& p) {
      return ::fnmatch(p.c_str(), f.name.c_str(), 0) == 0;
    });
  };
  files.erase(
      std::remove_if(files.begin(), files.end(), [&](const FileEntry& f) { return !matches(f); }),
      files.end());
  return files;
}

std::string FileResolver::resolve(const std::string& arg) {
  FileSpec spec = parse_file_spec(arg);
  if (is_id_spec(spec)) return spec.value;
  if (!files_) files_ = api_.list();
  return std::to_string(select_file(*files_, spec).id);
}

}  // namespace dfd::client
