#include "content/response_builder.hpp"

#include <charconv>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <random>

#include "dfd/host_services.hpp"
#include "dfd/wire/range.hpp"

namespace dfd::host {

namespace {

void append_uint(std::string& s, std::uint64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  s.append(buf, r.ptr);
}

void end_head(std::string& h, ConnectionHeader conn) {
  if (!conn.request_id.empty()) {
    h += "X-Request-Id: ";
    h += conn.request_id;
    h += "\r\n";
  }
  if (!conn.keep_alive) {
    h += "Connection: close\r\n";
  } else if (conn.http10) {
    h += "Connection: keep-alive\r\n";
  }
  h += "\r\n";
}

ResponsePiece memory(std::string bytes) {
  return ResponsePiece{std::move(bytes), 0, 0, false};
}
ResponsePiece file_range(std::uint64_t offset, std::uint64_t length) {
  return ResponsePiece{std::string(), offset, length, true};
}

}  // namespace

std::string_view reason_phrase(int status) noexcept {
  switch (status) {
    case 200:
      return "OK";
    case 206:
      return "Partial Content";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 416:
      return "Range Not Satisfiable";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return "Unknown";
  }
}

ResponseBuilder::ResponseBuilder() {
  std::random_device rd;
  boundary_seed_ = (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
}

const std::string& ResponseBuilder::date_header() {
  std::time_t now = std::time(nullptr);
  if (now != date_sec_) {
    date_sec_ = now;
    std::tm tm{};
    gmtime_r(&now, &tm);
    char buf[64];
    std::size_t n = std::strftime(buf, sizeof buf, "Date: %a, %d %b %Y %H:%M:%S GMT\r\n", &tm);
    date_.assign(buf, n);
  }
  return date_;
}

// Starts a response head: status line, Server, Date.
std::string ResponseBuilder::begin_head(int status) {
  std::string h;
  h.reserve(512);
  h += "HTTP/1.1 ";
  append_uint(h, static_cast<std::uint64_t>(status));
  h += ' ';
  h += reason_phrase(status);
  h += "\r\nServer: dfd\r\n";
  h += date_header();
  return h;
}

std::string ResponseBuilder::next_boundary() {
  char boundary[40];
  std::uint64_t a = boundary_seed_ ^ (++boundary_counter_ * 0x9E3779B97F4A7C15ull);
  std::snprintf(boundary, sizeof boundary, "dfd%016llx%08x", static_cast<unsigned long long>(a),
                static_cast<unsigned>(boundary_counter_));
  return boundary;
}

BuiltResponse ResponseBuilder::error(int status, std::string_view code, std::string_view message,
                                     bool head_only, ConnectionHeader conn,
                                     std::string_view extra_headers) {
  HttpResponse r;
  set_json_error(r, status, code, message);
  std::string h = begin_head(status);
  h += "Content-Type: application/json\r\nContent-Length: ";
  append_uint(h, r.body.size());
  h += "\r\nCache-Control: no-store\r\n";
  h += extra_headers;
  end_head(h, conn);
  if (!head_only) h += r.body;
  BuiltResponse out;
  out.status = status;
  out.pieces.push_back(memory(std::move(h)));
  return out;
}

BuiltResponse ResponseBuilder::file(const OpenFile& f, const RangeRequest& req,
                                    std::size_t max_ranges, bool head_only, ConnectionHeader conn) {
  std::uint64_t len = f.size;
  wire::RangeHeader::Resolved r;  // kFull
  if (req.range_count == 1 && (req.if_range.empty() || req.if_range == f.etag)) {
    if (auto parsed = wire::RangeHeader::parse(req.range)) r = parsed->resolve(len, max_ranges);
  }
  if (r.outcome == wire::RangeHeader::Outcome::kUnsatisfiable) {
    std::string extra = "Content-Range: ";
    wire::append_unsatisfied_range(extra, len);
    extra += "\r\n" + f.fixed_headers;
    return error(416, "range_not_satisfiable", "the range is outside the file", head_only, conn,
                 extra);
  }
  BuiltResponse out;
  out.status = r.outcome == wire::RangeHeader::Outcome::kPartial ? 206 : 200;
  std::string h = begin_head(out.status);
  if (r.outcome == wire::RangeHeader::Outcome::kFull || r.ranges.size() == 1) {
    std::uint64_t first = 0;
    std::uint64_t count = len;
    h += "Content-Type: application/octet-stream\r\nContent-Length: ";
    if (out.status == 206) {
      first = r.ranges[0].first;
      count = r.ranges[0].length();
      append_uint(h, count);
      h += "\r\nContent-Range: ";
      wire::append_content_range(h, first, r.ranges[0].last, len);
    } else {
      append_uint(h, len);
    }
    h += "\r\n";
    h += f.fixed_headers;
    end_head(h, conn);
    out.pieces.push_back(memory(std::move(h)));
    if (!head_only && count > 0) out.pieces.push_back(file_range(first, count));
    return out;
  }
  // multipart/byteranges (RFC 9110 §14.6)
  std::string boundary = next_boundary();
  std::vector<ResponsePiece> body;
  std::uint64_t total = 0;
  bool first_part = true;
  for (const wire::ByteRange& br : r.ranges) {
    std::string part = first_part ? "--" : "\r\n--";
    first_part = false;
    part += boundary;
    part += "\r\nContent-Type: application/octet-stream\r\nContent-Range: ";
    wire::append_content_range(part, br.first, br.last, len);
    part += "\r\n\r\n";
    total += part.size() + br.length();
    body.push_back(memory(std::move(part)));
    body.push_back(file_range(br.first, br.length()));
  }
  std::string tail = "\r\n--" + boundary + "--\r\n";
  total += tail.size();
  body.push_back(memory(std::move(tail)));
  h += "Content-Type: multipart/byteranges; boundary=";
  h += boundary;
  h += "\r\nContent-Length: ";
  append_uint(h, total);
  h += "\r\n";
  h += f.fixed_headers;
  end_head(h, conn);
  out.pieces.push_back(memory(std::move(h)));
  if (!head_only) {
    for (auto& p : body) out.pieces.push_back(std::move(p));
  }
  return out;
}

// ------------------------------------------------------------------------------- header values

std::string content_disposition_value(std::string_view path) {
  auto slash = path.rfind('/');
  std::string_view name = slash == std::string_view::npos ? path : path.substr(slash + 1);
  std::string quoted;
  bool non_ascii = false;
  for (char ch : name) {
    auto u = static_cast<unsigned char>(ch);
    if (u >= 0x80) {
      non_ascii = true;
      quoted += '_';
    } else if (u < 0x20 || u == 0x7f) {
      quoted += '_';
    } else if (ch == '"' || ch == '\\') {
      quoted += '\\';
      quoted += ch;
    } else {
      quoted += ch;
    }
  }
  std::string v = "attachment; filename=\"" + quoted + "\"";
  if (non_ascii) {
    static const char* hex = "0123456789ABCDEF";
    v += "; filename*=UTF-8''";
    for (char ch : name) {
      auto u = static_cast<unsigned char>(ch);
      bool attr = (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9') ||
                  (u < 0x80 && std::strchr("!#$&+-.^_`|~", ch) != nullptr && ch != '\0');
      if (attr) {
        v += ch;
      } else {
        v += '%';
        v += hex[u >> 4];
        v += hex[u & 0xf];
      }
    }
  }
  return v;
}

std::string repr_digest_value(std::string_view alg, std::string_view hex) {
  std::string name;
  std::size_t want = 0;
  if (alg == "sha256") {
    name = "sha-256";
    want = 32;
  } else if (alg == "sha512") {
    name = "sha-512";
    want = 64;
  } else {
    return {};
  }
  if (hex.size() != want * 2) return {};
  std::string bytes;
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    auto val = [](char ch) -> int {
      if (ch >= '0' && ch <= '9') return ch - '0';
      if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
      if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
      return -1;
    };
    int hi = val(hex[i]);
    int lo = val(hex[i + 1]);
    if (hi < 0 || lo < 0) return {};
    bytes += static_cast<char>(hi * 16 + lo);
  }
  static const char* b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out = name + "=:";
  std::size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    std::uint32_t n = (static_cast<unsigned char>(bytes[i]) << 16) |
                      (static_cast<unsigned char>(bytes[i + 1]) << 8) |
                      static_cast<unsigned char>(bytes[i + 2]);
    out += b64[(n >> 18) & 63];
    out += b64[(n >> 12) & 63];
    out += b64[(n >> 6) & 63];
    out += b64[n & 63];
  }
  if (i + 1 == bytes.size()) {
    std::uint32_t n = static_cast<unsigned char>(bytes[i]) << 16;
    out += b64[(n >> 18) & 63];
    out += b64[(n >> 12) & 63];
    out += "==";
  } else if (i + 2 == bytes.size()) {
    std::uint32_t n = (static_cast<unsigned char>(bytes[i]) << 16) |
                      (static_cast<unsigned char>(bytes[i + 1]) << 8);
    out += b64[(n >> 18) & 63];
    out += b64[(n >> 12) & 63];
    out += b64[(n >> 6) & 63];
    out += '=';
  }
  out += ':';
  return out;
}

}  // namespace dfd::host
