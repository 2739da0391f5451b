#include "request_framer.hpp"

#include <algorithm>
#include <cctype>
#include <string_view>

namespace dfd::host {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

constexpr std::string_view kEndOfHead = "\r\n\r\n";

}  // namespace

std::size_t RequestFramer::refuse(FramerRefusal* refusal, int status, const char* code,
                                  std::string message) {
  refused_ = true;
  refusal_ = FramerRefusal{status, code, std::move(message)};
  *refusal = refusal_;
  return 0;
}

std::size_t RequestFramer::take(const char* data, std::size_t len, bool* request_done,
                                FramerRefusal* refusal) {
  *request_done = false;
  if (refused_) {
    *refusal = refusal_;
    return 0;
  }
  if (in_body_) {
    std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(len, body_left_));
    body_left_ -= n;
    if (body_left_ == 0) {
      in_body_ = false;
      head_.clear();
      *request_done = true;
    }
    return n;
  }
  for (std::size_t i = 0; i < len; ++i) {
    if (head_.size() == limits_.max_head) {
      return refuse(refusal, 431, "head_too_large",
                    "request head is larger than " + std::to_string(limits_.max_head) + " bytes");
    }
    head_.push_back(data[i]);
    if (head_.size() >= kEndOfHead.size() &&
        std::string_view(head_).substr(head_.size() - kEndOfHead.size()) == kEndOfHead) {
      if (!finish_head(refusal)) return 0;
      if (body_left_ == 0) {
        head_.clear();
        *request_done = true;
      } else {
        in_body_ = true;
      }
      return i + 1;
    }
  }
  return len;
}

bool RequestFramer::finish_head(FramerRefusal* refusal) {
  std::string_view rest(head_);
  rest.remove_prefix(std::min(rest.size(), rest.find("\r\n") + 2));  // the request line
  bool have_length = false;
  std::uint64_t length = 0;
  while (!rest.empty()) {
    std::size_t eol = rest.find("\r\n");
    std::string_view line = rest.substr(0, eol);
    rest.remove_prefix(eol == std::string_view::npos ? rest.size() : eol + 2);
    std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;  // the empty line, or Pistache's to judge
    std::string_view name = line.substr(0, colon);
    std::string_view value = trim(line.substr(colon + 1));
    if (iequals(name, "transfer-encoding")) {
      refuse(refusal, 411, "length_required",
             "Transfer-Encoding is not accepted here; send a Content-Length");
      return false;
    }
    if (!iequals(name, "content-length")) continue;
    bool digits = !value.empty() && std::all_of(value.begin(), value.end(), [](char c) {
      return std::isdigit(static_cast<unsigned char>(c)) != 0;
    });
    if (!digits) {
      refuse(refusal, 400, "bad_request", "Content-Length is not a decimal number");
      return false;
    }
    // More than 19 digits cannot fit; anything that long is far above any limit anyway.
    std::uint64_t v = 0;
    bool huge = value.size() > 19;
    for (char c : value.substr(0, 19)) v = v * 10 + static_cast<std::uint64_t>(c - '0');
    if (huge || v > limits_.max_body) {
      refuse(refusal, 413, "body_too_large",
             "request body is larger than " + std::to_string(limits_.max_body) + " bytes");
      return false;
    }
    if (have_length && v != length) {
      refuse(refusal, 400, "bad_request", "conflicting Content-Length fields");
      return false;
    }
    have_length = true;
    length = v;
  }
  body_left_ = length;
  return true;
}

}  // namespace dfd::host
