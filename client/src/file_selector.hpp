// Which catalog file a command-line argument of `dfd get` / `dfd info` means (issue 13).
//
// An argument is one of:
//   7            all digits: the catalog id (as before; the id is never taken for a name)
//   movie.iso    the exact catalog name (case-sensitive, whole name, e.g. "videos/movie.iso")
//   9f86d0       a uid prefix: at least kMinUidPrefix hex digits of the file's uid (its whole-file
//                digest), any case, like git's short hashes
// and the explicit forms `id:7`, `name:NAME` (a name made of digits, or one starting with
// "id:"), `uid:PREFIX`. Without a prefix the rules are tried in this order: all digits = id;
// then an exact name; then a uid prefix. So a name wins over a uid prefix that happens to be
// spelled the same, and a file named "2024" is reached with `name:2024`.
//
// A name held by several catalog entries (the same name, different bytes) and a uid prefix of
// several files are ambiguous: AmbiguousFile lists the candidates (exit kAmbiguous).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "manifest.hpp"
#include "util.hpp"

namespace dfd::client {

class InfoApi;

constexpr std::size_t kMinUidPrefix = 4;

struct FileSpec {
  enum class Kind { kAuto, kId, kName, kUid };
  Kind kind = Kind::kAuto;
  std::string value;  // without the "id:" / "name:" / "uid:" prefix; a uid prefix lower-cased
  std::string arg;    // the argument as typed (for messages)
};

// Parses one argument; CliError(kUsage) for an empty argument, `id:` without digits, `uid:` with
// something other than kMinUidPrefix.. hex digits, `name:` without a name.
FileSpec parse_file_spec(const std::string& arg);

// True when the spec is an id (all digits, or id:N): no file list is needed to resolve it.
bool is_id_spec(const FileSpec& spec);

// A name or uid prefix that matches several files; what() lists them (candidate_table).
struct AmbiguousFile : CliError {
  AmbiguousFile(const std::string& msg, std::vector<FileEntry> files)
      : CliError(exit_code::kAmbiguous, msg), candidates(std::move(files)) {}
  std::vector<FileEntry> candidates;
};

// The file `spec` names in `files` (the whole catalog, GET /v1/files). Throws AmbiguousFile, or
// CliError(kNotFound) with a hint. For an id spec, the entry with that id (kNotFound if absent).
FileEntry select_file(const std::vector<FileEntry>& files, const FileSpec& spec);

// Candidates as lines "  ID  NAME  SIZE  UID-PREFIX" (names through printable()), each line
// ending in '\n': the first kMaxCandidatesShown, then "... and N more". The uid is cut to the
// shortest prefix (at least 12 characters) that tells the candidates apart.
constexpr std::size_t kMaxCandidatesShown = 20;
std::string candidate_table(const std::vector<FileEntry>& files);

// The files whose name matches at least one of `globs` (fnmatch(3) without flags: `*` also
// matches '/'); every file when `globs` is empty. Order kept.
std::vector<FileEntry> matching_globs(std::vector<FileEntry> files,
                                      const std::vector<std::string>& globs);

// Resolves arguments to catalog ids with one InfoApi: ids go straight to the manifest (no list);
// a name or uid prefix fetches the whole file list once (all pages) and selects from it.
class FileResolver {
 public:
  explicit FileResolver(InfoApi& api) : api_(api) {}
  // The catalog id (decimal) `arg` names; throws like parse_file_spec / select_file, or the
  // InfoApi's errors.
  std::string resolve(const std::string& arg);
  // The list fetched so far (empty until a name or prefix needed it).
  const std::vector<FileEntry>* files() const { return files_ ? &*files_ : nullptr; }

 private:
  InfoApi& api_;
  std::optional<std::vector<FileEntry>> files_;
};

}  // namespace dfd::client
