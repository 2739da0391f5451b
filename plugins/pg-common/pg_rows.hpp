// dfd_pg — the rows of one statement's result, read safely.
//
// Every accessor checks its row and column: outside the result, or on NULL, text() is "" and
// int64() is its fallback; nothing reads past libpq's buffers. Values are libpq's text format.
// Move-only; owns the PGresult. One thread at a time.
#pragma once

#include <cstdint>
#include <string>

typedef struct pg_result PGresult;

namespace dfd::pg {

class Rows {
 public:
  Rows() = default;
  explicit Rows(PGresult* r) : r_(r) {}
  ~Rows();
  Rows(Rows&& o) noexcept : r_(o.r_) { o.r_ = nullptr; }
  Rows& operator=(Rows&& o) noexcept;
  Rows(const Rows&) = delete;
  Rows& operator=(const Rows&) = delete;

  int size() const;     // rows returned (0 for a command)
  int columns() const;  // columns per row
  // Rows a command (INSERT/UPDATE/DELETE) touched; 0 when it reports none.
  std::int64_t affected() const;
  bool null(int row, int col) const;  // true also outside the result
  std::string text(int row, int col) const;
  // The value as a decimal integer; `fallback` when NULL, outside the result or not an integer.
  std::int64_t int64(int row, int col, std::int64_t fallback = 0) const;
  // PostgreSQL's boolean text ('t'); false when NULL or outside.
  bool boolean(int row, int col) const;

 private:
  bool inside(int row, int col) const;
  PGresult* r_ = nullptr;
};

}  // namespace dfd::pg
