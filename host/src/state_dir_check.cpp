#include "state_dir_check.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace dfd::host {
namespace fs = std::filesystem;

namespace {

// "" when `st` (of `path`) is safe; else the problem, e.g. "'/x' is world-writable ...".
std::string unsafe(const std::string& path, const struct stat& st, bool own_dir) {
  uid_t me = ::geteuid();
  if (st.st_uid != 0 && st.st_uid != me) {
    return "'" + path + "' is owned by uid " + std::to_string(st.st_uid) +
           ", neither root nor this process's uid " + std::to_string(me);
  }
  if (S_ISLNK(st.st_mode)) return "";  // a link's own mode means nothing; its owner does
  bool others_write = (st.st_mode & S_IWOTH) != 0;
  bool sticky = (st.st_mode & S_ISVTX) != 0;
  if (others_write && (own_dir || !S_ISDIR(st.st_mode))) {
    return "'" + path + "' is writable by every user (chmod o-w '" + path + "')";
  }
  if (others_write && !sticky) {
    return "'" + path + "' is world-writable without the sticky bit (chmod o-w or +t '" + path +
           "')";
  }
  return "";
}

// Checks `dir` (it must be safe for private files) and every directory above it.
std::string unsafe_chain(const fs::path& dir) {
  bool own = true;
  for (fs::path p = dir; !p.empty(); p = p.parent_path()) {
    struct stat st {};
    if (::lstat(p.c_str(), &st) != 0) {
      if (errno != ENOENT) return "'" + p.string() + "': " + std::strerror(errno);
    } else if (!S_ISLNK(st.st_mode)) {
      if (std::string why = unsafe(p.string(), st, own); !why.empty()) return why;
    }
    own = false;
    if (p == p.parent_path()) break;
  }
  return "";
}

std::string unsafe_dir(const fs::path& dir) {
  fs::path absolute = fs::absolute(dir).lexically_normal();
  if (absolute.has_filename() == false) absolute = absolute.parent_path();
  if (std::string why = unsafe_chain(absolute); !why.empty()) return why;
  std::error_code ec;
  fs::path real = fs::weakly_canonical(absolute, ec);
  return ec || real == absolute ? "" : unsafe_chain(real);
}

int line_of(const HostConfig& cfg, const toml::node* n, const toml::table* fallback) {
  if (n) return static_cast<int>(n->source().begin.line);
  return fallback ? static_cast<int>(fallback->source().begin.line) : 1;
}

Status refuse(const HostConfig& cfg, int line, const std::string& where, const std::string& why) {
  return Status::FailedPrecondition(cfg.file + ":" + std::to_string(line) + ": " + where + ": " +
                                    why +
                                    "; refusing to keep state where another user can "
                                    "change it");
}

bool is_db_key(std::string_view key) {
  return key == "db" || (key.size() > 3 && key.substr(key.size() - 3) == "_db");
}

Status check_db_keys(const HostConfig& cfg, const toml::table& t, const std::string& section) {
  for (auto&& [k, v] : t) {
    if (!is_db_key(k.str()) || !v.is_string()) continue;
    fs::path db(v.as_string()->get());
    if (std::string why = unsafe_dir(fs::absolute(db).parent_path()); !why.empty()) {
      return refuse(cfg, line_of(cfg, &v, nullptr),
                    section + " key '" + std::string(k.str()) + "' ('" + db.string() + "')", why);
    }
  }
  return Status::Ok();
}

}  // namespace

Status check_state_paths(const HostConfig& cfg) {
  const toml::table* server = cfg.root ? cfg.root->get_as<toml::table>("server") : nullptr;
  const toml::node* key = server ? server->get("state_dir") : nullptr;
  int line = line_of(cfg, key, server);
  std::string where = "[server] key 'state_dir' ('" + cfg.server.state_dir + "')";
  if (std::string why = unsafe_dir(cfg.server.state_dir); !why.empty()) {
    return refuse(cfg, line, where, why);
  }
  std::error_code ec;
  for (fs::directory_iterator it(cfg.server.state_dir, ec), end; !ec && it != end;
       it.increment(ec)) {
    struct stat st {};
    if (::lstat(it->path().c_str(), &st) != 0) continue;
    if (std::string why = unsafe(it->path().string(), st, true); !why.empty()) {
      return refuse(cfg, line, where, why);
    }
  }
  if (cfg.content) DFD_RETURN_IF_ERROR(check_db_keys(cfg, *cfg.content, "[content]"));
  for (const auto& p : cfg.plugins) {
    DFD_RETURN_IF_ERROR(check_db_keys(cfg, *p.table, "[[plugin]] " + p.name));
  }
  return Status::Ok();
}

}  // namespace dfd::host
