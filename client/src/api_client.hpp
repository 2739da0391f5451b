// InfoApi: the info server's HTTP API (login, logout, file list, manifest) over libcurl easy.
// Errors become CliError with a plain message taken from the JSON error body, e.g.
// "login failed: invalid email or password". One InfoApi per thread.
//
// Several info servers (issue 16): every call goes to the current server of the list and moves
// on to the next one when that server is unavailable (failover.hpp says what counts); when every
// server failed for `rounds` rounds the call throws InfoUnavailable naming each server and why.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "failover.hpp"
#include "manifest.hpp"
#include "util.hpp"

namespace dfd::client {

struct LoginResult {
  std::string token;
  std::string expires_at;
  std::string email;
};

// No info server of the list answered (each was unreachable or answered 5xx, for every round).
struct InfoUnavailable : CliError {
  using CliError::CliError;
};

class InfoApi {
 public:
  // `servers`: normalized base URLs such as http://127.0.0.1:9200 (server_list.hpp), at least
  // one; `token`: the user token ("" before login). `options`: the failover's rounds and waits.
  InfoApi(std::vector<std::string> servers, std::string token,
          Failover::Options options = Failover::Options{});

  // Every later request ends by `deadline` (steady clock; the epoch = none) with
  // CliError(kDeadline) naming `seconds`.
  void set_deadline(std::chrono::steady_clock::time_point deadline, double seconds);

  LoginResult login(const std::string& email, const std::string& password);
  void logout();                  // best effort; throws only on transport failure
  std::vector<FileEntry> list();  // follows limit/offset pages
  nlohmann::json manifest_json(const std::string& id, const std::string& zone);
  Manifest manifest(const std::string& id, const std::string& zone);
  // Any other route (admin_api.cpp): `body` (null: none; POST sends it as JSON) to `path`; the
  // parsed 2xx reply. Failures are thrown like every call: "<context>: <the server's message>",
  // 401/403 → kAuth, 404 → kNotFound, 429 → kThrottled, other answers → kServer.
  nlohmann::json request(const std::string& method, const std::string& path,
                         const nlohmann::json* body, const std::string& context) {
    return call(method, path, body, context);
  }
  // GET `path`?limit=&offset= page by page (a listing like /v1/files): `take` gets each parsed
  // reply and returns how many `what` ("files", "users") it held. Stops at an empty or short
  // page, or once the reply's `total` were taken; CliError(kServer) beyond `max_items`. Errors
  // say "cannot list <what>: ...".
  void get_pages(const std::string& path, const std::string& what, std::size_t max_items,
                 const std::function<std::size_t(const nlohmann::json&)>& take);
  // The server the next call goes to first (the last one that answered).
  const std::string& server() const { return failover_.current(); }
  const std::vector<std::string>& servers() const { return failover_.servers(); }

  struct Attempt;  // one transfer's outcome (api_client.cpp)

 private:
  nlohmann::json call(const std::string& method, const std::string& path,
                      const nlohmann::json* body, const std::string& context);
  // call() without parsing the 2xx reply: its body as sent (the manifest goes to the wire
  // decoder as text, parsed once). Failures are thrown as call() throws them.
  std::string call_text(const std::string& method, const std::string& path,
                        const nlohmann::json* body, const std::string& context);
  Attempt attempt(const std::string& server, const std::string& method, const std::string& path,
                  const nlohmann::json* body, const std::string& context);
  CliError deadline_passed(const std::string& context) const;
  Failover failover_;
  std::string token_;
  std::chrono::steady_clock::time_point deadline_{};
  double deadline_s_ = 0;
};

// Strips trailing slashes; rejects anything that is not http:// or https:// (CliError kUsage).
std::string normalize_server(const std::string& url);
// Percent-encodes a path segment or query value.
std::string url_escape(const std::string& s);

}  // namespace dfd::client
