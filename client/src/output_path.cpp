#include "output_path.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "manifest.hpp"
#include "util.hpp"

namespace dfd::client {

namespace {
bool is_directory(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

std::string join(const std::string& dir, const std::string& rel) {
  if (dir.empty()) return rel;
  return dir.back() == '/' ? dir + rel : dir + "/" + rel;
}

// What -o and -d name: a file, or a folder the file's own name goes into.
struct Target {
  std::string path;  // "" with folder = the current directory
  bool folder = false;
};

Target target_of(const std::string& output, const std::string& output_dir, bool several) {
  if (is_stdout_output(output)) {
    if (!output_dir.empty())
      throw CliError(exit_code::kUsage, "-o - (stdout) and -d DIR do not go together");
    throw CliError(exit_code::kUsage,
                   several ? "-o - streams one file to stdout; for several files give -d DIR"
                           : "-o - (stdout) has no path");
  }
  if (output.empty()) return {output_dir, true};
  if (!output_dir.empty() && output.front() == '/')
    throw CliError(exit_code::kUsage, "-o " + printable(output) +
                                          " is an absolute path, so -d DIR does not apply: give "
                                          "one of them");
  std::string p = join(output_dir, output);
  if (p.back() == '/' || is_directory(p)) return {p, true};
  if (several)
    throw CliError(exit_code::kUsage, "-o " + printable(output) +
                                          " names one file; for several files give a folder: "
                                          "-o DIR/ or -d DIR");
  return {p, false};
}
}  // namespace

bool is_stdout_output(const std::string& output) {
  return output == "-";
}

std::string safe_file_name(const std::string& catalog_name) {
  std::string name = default_output_name(catalog_name);  // last component, traversal refused
  std::size_t dots = name.find_first_not_of('.');
  if (dots == std::string::npos)
    throw CliError(exit_code::kUsage, "the file's name \"" + printable(catalog_name) +
                                          "\" is not usable as a local file name: give -o PATH");
  return name.substr(dots);
}

std::string resolve_output_path(const std::string& output, const std::string& output_dir,
                                const std::string& catalog_name, bool several) {
  Target t = target_of(output, output_dir, several);
  return t.folder ? join(t.path, safe_file_name(catalog_name)) : t.path;
}

std::optional<std::string> output_path_without_name(const std::string& output,
                                                    const std::string& output_dir) {
  if (is_stdout_output(output)) return std::nullopt;
  Target t = target_of(output, output_dir, false);
  if (t.folder) return std::nullopt;
  return t.path;
}

std::string create_parent_folders(const std::string& path) {
  std::string dir = dir_of(path);
  if (is_directory(dir)) return "";
  std::string created;
  for (std::size_t pos = dir.find('/', 1);; pos = dir.find('/', pos + 1)) {
    std::string part = dir.substr(0, pos);
    if (!part.empty() && part.back() != '/' && !is_directory(part)) {
      if (::mkdir(part.c_str(), 0777) == 0) {
        created = part;
      } else if (errno != EEXIST || !is_directory(part)) {
        int e = errno == EEXIST ? ENOTDIR : errno;
        throw CliError(exit_code::kLocalIo,
                       "cannot create the folder " + printable(part) + ": " + std::strerror(e));
      }
    }
    if (pos == std::string::npos) break;
  }
  return created;
}

OutputLock claim_output(const std::string& path, bool force) {
  std::string created = create_parent_folders(path);
  if (!created.empty())
    std::fprintf(stderr, "dfd: created folder %s\n", printable(created).c_str());
  OutputLock lock = OutputLock::acquire(path);
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode))
      throw CliError(exit_code::kExists, path + " is a folder; give another -o PATH");
    if (!force)
      throw CliError(exit_code::kExists, path + " already exists (use --force to overwrite it)");
  }
  return lock;
}

}  // namespace dfd::client
