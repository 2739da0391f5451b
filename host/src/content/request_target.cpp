#include "content/request_target.hpp"

#include "content/http_request.hpp"

namespace dfd::host {

namespace {
constexpr std::string_view kContentPrefix = "/v1/content/";
}  // namespace

ContentTarget content_uid_of(std::string_view target, std::string* uid) {
  // absolute-form: "http://host:port/path"
  if (target.size() > 7 && (ascii_iequals(target.substr(0, 7), "http://") ||
                            ascii_iequals(target.substr(0, 8), "https://"))) {
    auto slash = target.find('/', target.find("//") + 2);
    target = slash == std::string_view::npos ? std::string_view("/") : target.substr(slash);
  }
  std::string_view path = target.substr(0, target.find_first_of("?#"));
  if (path.size() <= kContentPrefix.size() ||
      path.substr(0, kContentPrefix.size()) != kContentPrefix) {
    return ContentTarget::kNotContent;
  }
  if (!percent_decode(path.substr(kContentPrefix.size()), uid)) return ContentTarget::kBadEscape;
  return ContentTarget::kUid;
}

bool percent_decode(std::string_view in, std::string* out) {
  out->clear();
  out->reserve(in.size());
  auto hexval = [](char ch) -> int {
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
    return -1;
  };
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      *out += in[i];
      continue;
    }
    if (i + 2 >= in.size()) return false;
    int hi = hexval(in[i + 1]);
    int lo = hexval(in[i + 2]);
    if (hi < 0 || lo < 0) return false;
    *out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return true;
}

}  // namespace dfd::host
