#include "api_client.hpp"

#include <curl/curl.h>

#include <chrono>
#include <cstdio>
#include <mutex>
#include <optional>
#include <string_view>
#include <thread>

#include "bounded_json.hpp"
#include "curl_policy.hpp"
#include "info_status.hpp"
#include "util.hpp"

namespace dfd::client {

namespace {
// One reply of the info server, read within limits: a body over kMaxJsonBytes or headers over
// kMaxHeaderBytes stop the transfer (the callback returns 0) instead of growing without end.
struct Reply {
  std::string body;
  bool body_too_big = false;
  HeaderBudget headers;
  std::optional<long> retry_after;  // a Retry-After header in seconds (info_status.hpp)
};

size_t collect(char* p, size_t s, size_t n, void* ud) {
  auto* r = static_cast<Reply*>(ud);
  if (r->body.size() + s * n > kMaxJsonBytes) {
    r->body_too_big = true;
    return 0;
  }
  r->body.append(p, s * n);
  return s * n;
}

size_t count_header(char* p, size_t s, size_t n, void* ud) {
  auto* r = static_cast<Reply*>(ud);
  if (!r->headers.add(s * n)) return 0;
  static constexpr std::string_view kRetryAfter = "retry-after:";
  std::string_view line(p, s * n);
  if (line.size() > kRetryAfter.size() && lower(line.substr(0, kRetryAfter.size())) == kRetryAfter)
    r->retry_after = parse_retry_after(line.substr(kRetryAfter.size()));
  return s * n;
}

// The server's error message, escaped and cut to a sensible length.
std::string server_message(const nlohmann::json& j) {
  if (!j.is_object() || !j.contains("error") || !j["error"].is_object() ||
      !j["error"].contains("message") || !j["error"]["message"].is_string())
    return "";
  auto m = printable(j["error"]["message"].get<std::string>());
  if (m.size() > 512) m = m.substr(0, 512) + "...";
  return m;
}

constexpr std::size_t kMaxListedFiles = 100000;
}  // namespace

std::string normalize_server(const std::string& url) {
  std::string u = url;
  while (!u.empty() && u.back() == '/') u.pop_back();
  std::string l = lower(u);
  if (l.rfind("http://", 0) != 0 && l.rfind("https://", 0) != 0)
    throw CliError(exit_code::kUsage,
                   "server URL must start with http:// or https://: '" + url + "'");
  return u;
}

std::string url_escape(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

InfoApi::InfoApi(std::vector<std::string> servers, std::string token, Failover::Options options)
    : failover_(std::move(servers), options), token_(std::move(token)) {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

void InfoApi::set_deadline(std::chrono::steady_clock::time_point deadline, double seconds) {
  deadline_ = deadline;
  deadline_s_ = seconds;
}

CliError InfoApi::deadline_passed(const std::string& context) const {
  char s[32];
  std::snprintf(s, sizeof s, "%g", deadline_s_);
  return CliError(exit_code::kDeadline, context + ": the deadline of " + s + " s passed");
}

// One transfer to one server, read within limits. Refusals of a hostile reply and a passed
// deadline are thrown here; everything else is returned for call() to classify.
struct InfoApi::Attempt {
  CURLcode rc = CURLE_OK;
  long status = 0;
  std::string error;  // libcurl's reason when rc != CURLE_OK
  std::string body;
  std::optional<long> retry_after;
};

InfoApi::Attempt InfoApi::attempt(const std::string& server, const std::string& method,
                                  const std::string& path, const nlohmann::json* body,
                                  const std::string& context) {
  long timeout_ms = static_cast<long>(failover_.options().attempt_timeout.count());
  bool by_deadline = false;
  if (deadline_ != std::chrono::steady_clock::time_point{}) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                    deadline_ - std::chrono::steady_clock::now())
                    .count();
    by_deadline = left < timeout_ms;
    timeout_ms = std::min<long>(timeout_ms, static_cast<long>(left));
  }
  if (timeout_ms <= 0) throw deadline_passed(context);
  CURL* c = curl_easy_init();
  if (!c) throw CliError(exit_code::kFailure, "cannot initialise libcurl");
  std::string url = server + path;
  Reply resp;
  std::string payload = body ? body->dump() : "";
  char err[CURL_ERROR_SIZE] = {0};
  curl_slist* h = nullptr;
  h = curl_slist_append(h, "Accept: application/json");
  if (body) h = curl_slist_append(h, "Content-Type: application/json");
  if (!token_.empty()) h = curl_slist_append(h, ("Authorization: Bearer " + token_).c_str());
  apply_curl_policy(c);
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  // --timeout bounds the whole call, connect included (issue 13).
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &resp);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, count_header);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &resp);
  curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(kMaxJsonBytes));
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, err);
  curl_easy_setopt(c, CURLOPT_USERAGENT, "dfd/0.1");
  if (method == "POST") {
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, payload.c_str());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, static_cast<long>(payload.size()));
  }
  Attempt a;
  a.rc = curl_easy_perform(c);
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &a.status);
  curl_slist_free_all(h);
  curl_easy_cleanup(c);
  if (resp.body_too_big || a.rc == CURLE_FILESIZE_EXCEEDED)
    throw CliError(exit_code::kServer, context + ": the info server at " + server +
                                           " sent a reply larger than " +
                                           std::to_string(kMaxJsonBytes >> 20) + " MiB; refused");
  if (resp.headers.exceeded())
    throw CliError(exit_code::kServer, context + ": the info server at " + server +
                                           " sent response headers larger than " +
                                           std::to_string(kMaxHeaderBytes >> 10) + " KiB; refused");
  if (a.rc == CURLE_OPERATION_TIMEDOUT && by_deadline) throw deadline_passed(context);
  if (a.rc != CURLE_OK) a.error = printable(err[0] ? err : curl_easy_strerror(a.rc));
  a.body = std::move(resp.body);
  a.retry_after = resp.retry_after;
  return a;
}

namespace {
// Why `server` counts as unavailable after attempt `a`: "HTTP 503: <its message>", libcurl's
// reason, no answer within the timeout, or the broken TLS handshake (with the client-certificate
// hint where it fits).
std::string unavailable_reason(const InfoApi::Attempt& a,
                               const std::optional<nlohmann::json>& parsed,
                               const std::string& server, std::chrono::milliseconds timeout) {
  if (a.rc == CURLE_OPERATION_TIMEDOUT) {
    char s[32];
    std::snprintf(s, sizeof s, "%g", static_cast<double>(timeout.count()) / 1000);
    return std::string("no answer within ") + s + " s (--timeout)";
  }
  if (a.rc == CURLE_OK) {
    std::string msg = parsed ? server_message(*parsed) : "";
    return "HTTP " + std::to_string(a.status) + (msg.empty() ? "" : ": " + msg);
  }
  std::string hint = client_certificate_hint(a.rc, server);
  if (a.rc == CURLE_SSL_CONNECT_ERROR) return "TLS handshake failed: " + a.error + hint;
  return a.error + hint;
}
}  // namespace

nlohmann::json InfoApi::call(const std::string& method, const std::string& path,
                             const nlohmann::json* body, const std::string& context) {
  std::string text = call_text(method, path, body, context);
  std::string why;
  auto parsed = parse_bounded_json(text, &why);
  if (!parsed)
    throw CliError(exit_code::kServer,
                   context + ": the info server sent an unusable reply (" + why + ")");
  return std::move(*parsed);
}

std::string InfoApi::call_text(const std::string& method, const std::string& path,
                               const nlohmann::json* body, const std::string& context) {
  failover_.begin();
  bool only_tls = true;  // every failure so far was a TLS handshake that broke
  for (;;) {
    const std::string server = failover_.current();
    Attempt a = attempt(server, method, path, body, context);
    const ReplyClass reply = classify_reply(a.rc, a.status);
    if (reply == ReplyClass::kAnswer && a.status >= 200 && a.status < 300) {
      failover_.answered();
      return std::move(a.body);  // parsed once, by the caller
    }
    std::string why;
    auto parsed = a.rc == CURLE_OK ? parse_bounded_json(a.body, &why) : std::nullopt;
    switch (reply) {
      case ReplyClass::kFatal: {
        if (auto tls = tls_failure_message(a.rc, server, a.error))
          throw CliError(exit_code::kTls, context + ": " + *tls);
        throw CliError(exit_code::kServer,
                       context + ": cannot reach the info server at " + server + ": " + a.error);
      }
      case ReplyClass::kAnswer:
        failover_.answered();
        break;
      case ReplyClass::kUnavailable: {
        only_tls = only_tls && a.rc == CURLE_SSL_CONNECT_ERROR;
        auto step = failover_.unavailable(
            unavailable_reason(a, parsed, server, failover_.options().attempt_timeout),
            a.rc == CURLE_OPERATION_TIMEDOUT);
        if (step.give_up)
          throw InfoUnavailable(only_tls ? exit_code::kTls : exit_code::kServer,
                                context + ": no info server answered (" +
                                    std::to_string(failover_.rounds_done()) +
                                    (failover_.rounds_done() == 1 ? " round" : " rounds") +
                                    "): " + failover_.tried());
        if (step.wait.count() > 0) {
          if (deadline_ != std::chrono::steady_clock::time_point{} &&
              std::chrono::steady_clock::now() + step.wait >= deadline_)
            throw deadline_passed(context);
          std::this_thread::sleep_for(step.wait);
        }
        continue;
      }
    }
    throw CliError(exit_code_for_info_status(a.status),
                   info_error_message(context, a.status, parsed ? server_message(*parsed) : "",
                                      a.retry_after));
  }
}

LoginResult InfoApi::login(const std::string& email, const std::string& password) {
  nlohmann::json body = {{"email", email}, {"password", password}};
  auto j = call("POST", "/v1/auth/login", &body, "login failed");
  LoginResult r;
  if (!j.contains("token") || !j["token"].is_string())
    throw CliError(exit_code::kServer, "login failed: the info server sent no token");
  r.token = j["token"].get<std::string>();
  if (j.contains("expires_at") && j["expires_at"].is_string())
    r.expires_at = j["expires_at"].get<std::string>();
  r.email = email;
  if (j.contains("user") && j["user"].is_object() && j["user"].contains("email") &&
      j["user"]["email"].is_string())
    r.email = j["user"]["email"].get<std::string>();
  return r;
}

void InfoApi::logout() {
  nlohmann::json body = nlohmann::json::object();
  try {
    call("POST", "/v1/auth/logout", &body, "logout");
  } catch (const InfoUnavailable&) {
    throw;
  } catch (const CliError& e) {
    if (e.exit_code == exit_code::kTls ||
        (e.exit_code == exit_code::kServer &&
         std::string(e.what()).find("cannot reach") != std::string::npos))
      throw;
    // The server forgot the token already, or has no logout route: local logout is enough.
  }
}

void InfoApi::get_pages(const std::string& path, const std::string& what, std::size_t max_items,
                        const std::function<std::size_t(const nlohmann::json&)>& take) {
  constexpr std::size_t kPage = 500;
  std::size_t taken = 0;
  for (std::size_t offset = 0;; offset += kPage) {
    auto j =
        call("GET", path + "?limit=" + std::to_string(kPage) + "&offset=" + std::to_string(offset),
             nullptr, "cannot list " + what);
    const std::size_t page = take(j);
    taken += page;
    if (taken > max_items)
      throw CliError(exit_code::kServer, "cannot list " + what +
                                             ": the info server lists more than " +
                                             std::to_string(max_items) + " " + what + "; refused");
    std::uint64_t total = j.contains("total") && j["total"].is_number_unsigned()
                              ? j["total"].get<std::uint64_t>()
                              : taken;
    if (page == 0 || taken >= total || page < kPage) break;
  }
}

std::vector<FileEntry> InfoApi::list() {
  std::vector<FileEntry> all;
  get_pages("/v1/files", "files", kMaxListedFiles, [&](const nlohmann::json& j) {
    auto page = parse_file_list(j);
    all.insert(all.end(), page.begin(), page.end());
    return page.size();
  });
  return all;
}

namespace {
std::string manifest_path(const std::string& id, const std::string& zone) {
  std::string path = "/v1/files/" + url_escape(id);
  if (!zone.empty()) path += "?zone=" + url_escape(zone);
  return path;
}
}  // namespace

nlohmann::json InfoApi::manifest_json(const std::string& id, const std::string& zone) {
  return call("GET", manifest_path(id, zone), nullptr, "file " + id);
}

Manifest InfoApi::manifest(const std::string& id, const std::string& zone) {
  return parse_manifest_text(call_text("GET", manifest_path(id, zone), nullptr, "file " + id));
}

}  // namespace dfd::client
