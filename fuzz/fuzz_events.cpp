// Fuzz target: every broker event decoder (sdk/src/events.cpp, dfd/events.hpp). Each body is fed
// to all of them (the seed corpus holds valid and broken bodies of every kind).
// Contract: decoders never throw (they return a Status). Invariants: what a decoder accepts
// re-encodes to a body that decodes to the same values; its number fields were JSON integers of
// the right sign; an accepted file.available has exactly ceil(size / chunk_size) chunk digests.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "dfd/events.hpp"
#include "fuzz_check.hpp"

namespace {

namespace ev = dfd::events;

// A refusal is kInvalidArgument; kInternal would mean an exception escaped into guard().
template <typename R>
bool decoded(const R& r) {
  FUZZ_CHECK(r.ok() || r.status().code() != dfd::Code::kInternal);
  return r.ok();
}

// An accepted number field was a JSON integer in the body (not a float cast, not a wrapped -1).
bool integer_field(std::string_view body, const char* key, bool non_negative) {
  auto j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains(key)) return false;
  const auto& v = j.at(key);
  // "-0" parses as a signed integer 0.
  return v.is_number_integer() &&
         (!non_negative || v.is_number_unsigned() || v.get<std::int64_t>() >= 0);
}

// The decoded expiry is the body's "expires_at" (Unix seconds), not a wrapped-around time.
bool expiry_matches(std::string_view body, const dfd::DownloadTokenRecord& r) {
  auto j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  auto secs = std::chrono::duration_cast<std::chrono::seconds>(r.expires_at.time_since_epoch());
  return j.is_object() && j.contains("expires_at") &&
         j.at("expires_at").get<std::int64_t>() == secs.count();
}

bool same(const dfd::DownloadTokenRecord& a, const dfd::DownloadTokenRecord& b) {
  return a.token_hash == b.token_hash && a.scope == b.scope && a.user_id == b.user_id &&
         a.expires_at == b.expires_at;
}

void token_issued(std::string_view body) {
  auto one = ev::decode_token_issued(body);
  std::vector<dfd::Status> skipped;
  auto batch = ev::decode_token_issued_batch(body, &skipped);
  if (decoded(one)) {
    FUZZ_CHECK(integer_field(body, "user_id", false) && integer_field(body, "expires_at", false));
    FUZZ_CHECK(expiry_matches(body, *one));
    auto again = ev::decode_token_issued(ev::encode_token_issued(*one));
    FUZZ_CHECK(again.ok() && same(*again, *one));
  }
  if (!decoded(batch)) return;
  for (const auto& s : skipped) FUZZ_CHECK(!s.ok());
  auto again = ev::decode_token_issued_batch(ev::encode_token_issued_batch(*batch));
  FUZZ_CHECK(again.ok() && again->size() == batch->size());
  for (std::size_t i = 0; i < batch->size(); ++i) FUZZ_CHECK(same((*again)[i], (*batch)[i]));
}

void token_revoked(std::string_view body) {
  auto h = ev::decode_token_revoked(body);
  if (!decoded(h)) return;
  auto again = ev::decode_token_revoked(ev::encode_token_revoked(*h));
  FUZZ_CHECK(again.ok() && *again == *h);
}

void file_available(std::string_view body) {
  auto f = ev::decode_file_available(body);
  if (!decoded(f)) return;
  FUZZ_CHECK(integer_field(body, "size", true) && integer_field(body, "chunk_size", true));
  FUZZ_CHECK(f->chunk_size > 0);
  std::uint64_t want = f->size / f->chunk_size + (f->size % f->chunk_size != 0 ? 1 : 0);
  FUZZ_CHECK(f->chunks.size() == want);
  auto again = ev::decode_file_available(ev::encode_file_available(*f));
  FUZZ_CHECK(again.ok() && again->server_id == f->server_id && again->zone == f->zone &&
             again->url == f->url && again->uid == f->uid && again->name == f->name &&
             again->size == f->size && again->alg == f->alg && again->chunk_size == f->chunk_size &&
             again->chunks == f->chunks);
}

void file_removed(std::string_view body) {
  auto f = ev::decode_file_removed(body);
  if (!decoded(f)) return;
  auto again = ev::decode_file_removed(ev::encode_file_removed(*f));
  FUZZ_CHECK(again.ok() && again->server_id == f->server_id && again->uid == f->uid);
}

void heartbeat(std::string_view body) {
  auto h = ev::decode_heartbeat(body);
  if (!decoded(h)) return;
  FUZZ_CHECK(integer_field(body, "interval_ms", false) && integer_field(body, "files", false));
  auto again = ev::decode_heartbeat(ev::encode_heartbeat(*h));
  FUZZ_CHECK(again.ok() && again->server_id == h->server_id && again->zone == h->zone &&
             again->url == h->url && again->interval_ms == h->interval_ms &&
             again->files == h->files);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);
  token_issued(body);
  token_revoked(body);
  file_available(body);
  file_removed(body);
  heartbeat(body);
  return 0;
}
