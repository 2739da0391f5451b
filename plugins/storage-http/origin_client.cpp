#include "origin_client.hpp"

#include "dfd/wire/range.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <memory>
#include <new>

namespace dfd::storage_http {
namespace {

struct Transfer {
  std::string body;
  std::size_t max_bytes = 0;
  bool too_big = false;
  std::string content_range;  // of the last response (headers restart on each response)
};

std::size_t on_body(char* data, std::size_t size, std::size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  std::size_t len = size * n;
  if (t->body.size() + len > t->max_bytes) {
    t->too_big = true;
    return 0;  // aborts the transfer (CURLE_WRITE_ERROR)
  }
  t->body.append(data, len);
  return len;
}

std::size_t on_header(char* data, std::size_t size, std::size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  std::string_view line(data, size * n);
  if (line.rfind("HTTP/", 0) == 0) t->content_range.clear();  // a new response begins
  constexpr std::string_view kName = "content-range:";
  if (line.size() > kName.size() && line.size() < 256) {
    bool match = true;
    for (std::size_t i = 0; i < kName.size() && match; ++i) {
      match = std::tolower(static_cast<unsigned char>(line[i])) == kName[i];
    }
    if (match) {
      std::string_view v = line.substr(kName.size());
      while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
      while (!v.empty() && (v.back() == '\r' || v.back() == '\n' || v.back() == ' ')) {
        v.remove_suffix(1);
      }
      t->content_range.assign(v);
    }
  }
  return size * n;
}

using CurlPtr = std::unique_ptr<CURL, decltype(&curl_easy_cleanup)>;

}  // namespace

std::string OriginClient::join(const std::string& base, const std::string& name) {
  std::string out = base;
  if (!out.empty() && out.back() != '/') out += '/';
  std::size_t start = 0;
  for (;;) {  // each '/'-separated segment escaped by libcurl (all but A-Za-z0-9-._~)
    std::size_t slash = name.find('/', start);
    std::string seg = name.substr(start, slash == std::string::npos ? slash : slash - start);
    std::unique_ptr<char, decltype(&curl_free)> esc(
        curl_easy_escape(nullptr, seg.data(), static_cast<int>(seg.size())), &curl_free);
    if (!esc) throw std::bad_alloc();
    out += esc.get();
    if (slash == std::string::npos) break;
    out += '/';
    start = slash + 1;
  }
  return out;
}

std::string OriginClient::redact(const std::string& url) {
  std::string out = url.substr(0, url.find('?'));
  // "https://user:password@host/..." → "https://host/...": credentials in the authority stay out
  // of messages too.
  std::size_t scheme = out.find("://");
  if (scheme != std::string::npos) {
    std::size_t host = scheme + 3;
    std::size_t path = out.find('/', host);
    std::size_t at = out.rfind('@', path == std::string::npos ? std::string::npos : path);
    if (at != std::string::npos && at >= host) out.erase(host, at + 1 - host);
  }
  return out;
}

namespace {

// Runs one request; fills `t` and the status code.
Status perform(const std::string& url, const OriginOptions& o, const char* range, Transfer& t,
               long& code) {
  CurlPtr h(curl_easy_init(), &curl_easy_cleanup);
  if (!h) return Status::ResourceExhausted("cannot create a libcurl handle");
  CURL* c = h.get();
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, o.timeout_ms);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, o.timeout_ms);
  curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, nullptr);  // bytes as stored, never recoded
  curl_easy_setopt(c, CURLOPT_USERAGENT, "dfd-storage-http/1");
  if (!o.ca_file.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, o.ca_file.c_str());
  std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> headers(nullptr,
                                                                      &curl_slist_free_all);
  if (range) {
    headers.reset(curl_slist_append(nullptr, (std::string("Range: ") + range).c_str()));
    if (!headers) return Status::ResourceExhausted("cannot build the Range header");
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
  }
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &on_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &t);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, &on_header);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &t);
  CURLcode rc = curl_easy_perform(c);
  code = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
  const std::string where = OriginClient::redact(url);
  if (t.too_big) {
    return Status::ResourceExhausted(where + ": the answer is bigger than the limit of " +
                                     std::to_string(t.max_bytes) + " bytes");
  }
  if (rc != CURLE_OK) {
    return Status::Unavailable(where + ": " + curl_easy_strerror(rc));
  }
  return Status::Ok();
}

}  // namespace

Result<std::string> OriginClient::get(const std::string& url,
                                      std::size_t max_bytes) const noexcept {
  return guard("origin", [&]() -> Result<std::string> {
    Transfer t;
    t.max_bytes = max_bytes;
    long code = 0;
    DFD_RETURN_IF_ERROR(perform(url, options_, nullptr, t, code));
    if (code != 200) {
      return Status::IoError(redact(url) + ": HTTP status " + std::to_string(code) + ", want 200");
    }
    return std::move(t.body);
  });
}

Result<std::string> OriginClient::get_range(const std::string& url, std::uint64_t offset,
                                            std::uint64_t len,
                                            std::uint64_t file_size) const noexcept {
  return guard("origin", [&]() -> Result<std::string> {
    if (len == 0) return std::string();
    const std::uint64_t last = offset + len - 1;
    const std::string range = wire::format_range_request(offset, last);
    Transfer t;
    t.max_bytes = static_cast<std::size_t>(len);
    // Memory follows the bytes that arrive: an index may name chunks of up to 1 GiB, and no
    // more than 16 MiB is taken before the origin sends anything.
    t.body.reserve(static_cast<std::size_t>(std::min<std::uint64_t>(len, std::uint64_t{16} << 20)));
    long code = 0;
    DFD_RETURN_IF_ERROR(perform(url, options_, range.c_str(), t, code));
    const std::string where = redact(url) + " " + range;
    if (code != 206) {
      return Status::IoError(where + ": HTTP status " + std::to_string(code) +
                             ", want 206 (does the origin support Range?)");
    }
    auto cr = wire::parse_content_range(t.content_range);
    if (!cr) {
      return Status::IoError(where + ": missing or malformed Content-Range '" +
                             t.content_range.substr(0, 80) + "'");
    }
    if (!cr->complete_length || !cr->answers(offset, last, file_size)) {
      return Status::IoError(where + ": the origin answered Content-Range '" + t.content_range +
                             "', want " + wire::format_content_range(offset, last, file_size) +
                             " (the origin's file differs from its index)");
    }
    if (t.body.size() != len) {
      return Status::IoError(where + ": got " + std::to_string(t.body.size()) + " bytes, want " +
                             std::to_string(len));
    }
    return std::move(t.body);
  });
}

}  // namespace dfd::storage_http
