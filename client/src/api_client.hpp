// InfoApi: the info server's HTTP API (login, logout, file list, manifest) over libcurl easy.
// Errors become CliError with a plain message taken from the JSON error body, e.g.
// "login failed: invalid email or password". One InfoApi per thread.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "manifest.hpp"

namespace dfd::client {

struct LoginResult {
  std::string token;
  std::string expires_at;
  std::string email;
};

class InfoApi {
 public:
  // `server`: base URL such as http://127.0.0.1:9200; `token`: the user token ("" before login).
  InfoApi(std::string server, std::string token);

  // Every later request ends by `deadline` (steady clock; the epoch = none) with
  // CliError(kDeadline) naming `seconds`.
  void set_deadline(std::chrono::steady_clock::time_point deadline, double seconds);

  LoginResult login(const std::string& email, const std::string& password);
  void logout();                  // best effort; throws only on transport failure
  std::vector<FileEntry> list();  // follows limit/offset pages
  nlohmann::json manifest_json(const std::string& id, const std::string& zone);
  Manifest manifest(const std::string& id, const std::string& zone);
  const std::string& server() const { return server_; }

 private:
  nlohmann::json call(const std::string& method, const std::string& path,
                      const nlohmann::json* body, const std::string& context);
  nlohmann::json call_once(const std::string& method, const std::string& path,
                           const nlohmann::json* body, const std::string& context, long* status,
                           bool quiet_503);
  std::string server_;
  std::string token_;
  std::chrono::steady_clock::time_point deadline_{};
  double deadline_s_ = 0;
};

// Strips trailing slashes; rejects anything that is not http:// or https:// (CliError kUsage).
std::string normalize_server(const std::string& url);
// Percent-encodes a path segment or query value.
std::string url_escape(const std::string& s);

}  // namespace dfd::client
