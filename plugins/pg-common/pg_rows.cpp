#include "pg_rows.hpp"

#include <libpq-fe.h>

#include <charconv>

namespace dfd::pg {

Rows::~Rows() {
  if (r_) PQclear(r_);
}

Rows& Rows::operator=(Rows&& o) noexcept {
  if (this != &o) {
    if (r_) PQclear(r_);
    r_ = o.r_;
    o.r_ = nullptr;
  }
  return *this;
}

int Rows::size() const {
  return r_ ? PQntuples(r_) : 0;
}
int Rows::columns() const {
  return r_ ? PQnfields(r_) : 0;
}

std::int64_t Rows::affected() const {
  if (!r_) return 0;
  const char* s = PQcmdTuples(r_);
  std::int64_t n = 0;
  if (!s || !*s) return 0;
  std::from_chars(s, s + std::char_traits<char>::length(s), n);
  return n;
}

bool Rows::inside(int row, int col) const {
  return r_ && row >= 0 && col >= 0 && row < PQntuples(r_) && col < PQnfields(r_);
}

bool Rows::null(int row, int col) const {
  return !inside(row, col) || PQgetisnull(r_, row, col);
}

std::string Rows::text(int row, int col) const {
  if (null(row, col)) return {};
  return std::string(PQgetvalue(r_, row, col), static_cast<std::size_t>(PQgetlength(r_, row, col)));
}

std::int64_t Rows::int64(int row, int col, std::int64_t fallback) const {
  if (null(row, col)) return fallback;
  const char* p = PQgetvalue(r_, row, col);
  const char* end = p + PQgetlength(r_, row, col);
  std::int64_t v = 0;
  auto [at, ec] = std::from_chars(p, end, v);
  if (ec != std::errc() || at != end) return fallback;
  return v;
}

bool Rows::boolean(int row, int col) const {
  if (null(row, col)) return false;
  return PQgetvalue(r_, row, col)[0] == 't';
}

}  // namespace dfd::pg
