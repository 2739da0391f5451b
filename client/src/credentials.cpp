#include "credentials.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "state_file.hpp"
#include "util.hpp"

namespace dfd::client {

namespace {
std::string config_dir() {
  const char* x = std::getenv("XDG_CONFIG_HOME");
  if (x && *x) return std::string(x) + "/dfd";
  const char* h = std::getenv("HOME");
  if (h && *h) return std::string(h) + "/.config/dfd";
  throw CliError(exit_code::kFailure, "neither XDG_CONFIG_HOME nor HOME is set");
}

void make_dirs(const std::string& dir) {
  std::string cur;
  std::size_t pos = 0;
  while (pos != std::string::npos) {
    pos = dir.find('/', pos + 1);
    cur = dir.substr(0, pos);
    if (cur.empty()) continue;
    if (::mkdir(cur.c_str(), 0700) != 0 && errno != EEXIST)
      throw CliError(exit_code::kLocalIo, "cannot create " + cur + ": " + std::strerror(errno));
  }
}
}  // namespace

std::string credentials_path() {
  return config_dir() + "/credentials";
}

std::optional<Credentials> load_credentials() {
  std::string path = credentials_path();
  std::ifstream f(path);
  if (!f) return std::nullopt;
  std::stringstream ss;
  ss << f.rdbuf();
  auto j = nlohmann::json::parse(ss.str(), nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("token") || !j["token"].is_string())
    throw CliError(exit_code::kAuth, path + " is damaged; run 'dfd login' again");
  Credentials c;
  c.token = j["token"].get<std::string>();
  c.server = j.value("server", "");
  c.expires_at = j.value("expires_at", "");
  c.email = j.value("email", "");
  return c;
}

void save_credentials(const Credentials& c) {
  std::string dir = config_dir();
  make_dirs(dir);
  ::chmod(dir.c_str(), 0700);
  nlohmann::json j = {
      {"server", c.server}, {"token", c.token}, {"expires_at", c.expires_at}, {"email", c.email}};
  std::string path = dir + "/credentials";
  if (int e = write_file_atomic(path, j.dump(2) + "\n", 0600))
    throw CliError(exit_code::kLocalIo, "cannot write " + path + ": " + std::strerror(e));
}

bool remove_credentials() {
  std::string path = credentials_path();
  return ::unlink(path.c_str()) == 0;
}

}  // namespace dfd::client
