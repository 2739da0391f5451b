#include "content/response_writer.hpp"

#include <algorithm>
#include <cstring>

namespace dfd::host {

namespace {

// The piece the cursor (c.piece, c.sent) is in, skipping finished ones, and its bytes `*left`;
// nullptr when the whole response is past the cursor.
ResponsePiece* next_piece(Conn& c, std::uint64_t* left) {
  for (; c.piece < c.pieces.size(); ++c.piece, c.sent = 0) {
    ResponsePiece& p = c.pieces[c.piece];
    *left = (p.from_file ? p.length : p.bytes.size()) - c.sent;
    if (*left > 0) return &p;
  }
  return nullptr;
}

}  // namespace

WriteResult ResponseWriter::write(Conn& c) {
  bool staged = !c.io->zero_copy() || (c.file && c.file->fd < 0);
  return staged ? write_staged(c) : write_direct(c);
}

void ResponseWriter::release_stage(Conn& c) noexcept {
  if (c.stage && pool_.size() < kPoolSize) pool_.push_back(std::move(c.stage));
  c.stage.reset();
  c.stage_len = c.stage_pos = 0;
}

WriteResult ResponseWriter::write_direct(Conn& c) {
  std::uint64_t budget = kTurnBudget;
  std::uint64_t left;
  while (ResponsePiece* current = next_piece(c, &left)) {
    ResponsePiece& p = *current;
    Io r;
    if (!p.from_file) {
      r = c.io->write(p.bytes.data() + c.sent, static_cast<std::size_t>(left),
                      c.piece + 1 < c.pieces.size());
    } else {
      if (budget == 0) return WriteResult::kYield;
      auto want = static_cast<std::size_t>(std::min(left, budget));
      r = c.io->send_file(c.file->fd, p.offset + c.sent, want);
      if (r.outcome == IoOutcome::kOk && r.n == 0) {
        log_.warn("data plane: file '" + c.file->meta->path +
                  "' is shorter than indexed; closing the connection (request " +
                  std::string(c.request_id.view()) + ")");
        return WriteResult::kError;
      }
    }
    if (r.outcome == IoOutcome::kWouldBlock) return WriteResult::kBlocked;
    if (r.outcome != IoOutcome::kOk) return WriteResult::kError;
    c.sent += r.n;
    if (p.from_file) {
      c.body_bytes += r.n;
      budget -= std::min<std::uint64_t>(budget, r.n);
    }
  }
  return WriteResult::kDone;
}

WriteResult ResponseWriter::write_staged(Conn& c) {
  std::uint64_t budget = kTurnBudget;
  const auto read_until = std::chrono::steady_clock::now() + kTurnReadTime;
  while (true) {
    if (c.stage_pos == c.stage_len) {
      if (c.piece >= c.pieces.size()) return WriteResult::kDone;
      if (budget == 0) return WriteResult::kYield;
      if (!fill_stage(c, budget, read_until)) return WriteResult::kError;
      if (c.stage_len == 0) continue;  // only empty pieces were left
    }
    // Retried after kWouldBlock with the same bytes: the staging buffer does not move.
    Io r = c.io->write(c.stage.get() + c.stage_pos, c.stage_len - c.stage_pos,
                       c.piece < c.pieces.size());
    if (r.outcome == IoOutcome::kWouldBlock) return WriteResult::kBlocked;
    if (r.outcome != IoOutcome::kOk) return WriteResult::kError;
    c.stage_pos += r.n;
  }
}

// Copies the next pieces into the (emptied) staging buffer: heads from memory, file ranges with
// read_at(), as far as the buffer and the turn's budget allow; once the turn has read past
// `read_until` the budget is spent (what is staged still goes out). False: the file cannot be
// read.
bool ResponseWriter::fill_stage(Conn& c, std::uint64_t& budget,
                                std::chrono::steady_clock::time_point read_until) {
  if (!c.stage) {
    if (!pool_.empty()) {
      c.stage = std::move(pool_.back());
      pool_.pop_back();
    } else {
      c.stage.reset(new char[kStageSize]);
    }
  }
  c.stage_len = c.stage_pos = 0;
  std::uint64_t left;
  ResponsePiece* current;
  while (c.stage_len < kStageSize && (current = next_piece(c, &left)) != nullptr) {
    ResponsePiece& p = *current;
    auto want = static_cast<std::size_t>(std::min<std::uint64_t>(left, kStageSize - c.stage_len));
    char* at = c.stage.get() + c.stage_len;
    if (!p.from_file) {
      std::memcpy(at, p.bytes.data() + c.sent, want);
    } else {
      if (budget == 0) break;
      want = static_cast<std::size_t>(std::min<std::uint64_t>(want, budget));
      auto r = c.file->handle->read_at(p.offset + c.sent, at, want);
      if (!r.ok() || *r == 0) {
        log_.warn("data plane: reading '" + c.file->meta->path + "' failed: " +
                  (r.ok() ? std::string("unexpected end of file") : r.status().to_string()) +
                  " (request " + std::string(c.request_id.view()) + ")");
        return false;
      }
      want = *r;
      c.body_bytes += want;
      budget -= want;
      if (std::chrono::steady_clock::now() >= read_until) budget = 0;  // a slow storage
    }
    c.stage_len += want;
    c.sent += want;
  }
  return true;
}

}  // namespace dfd::host
