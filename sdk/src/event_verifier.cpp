// Verifier and ReplayCache of signed events (sdk/include/dfd/event_signing.hpp).
#include "dfd/event_signing.hpp"
#include "signing_input.hpp"

namespace dfd::events {

ReplayCache::ReplayCache(std::chrono::seconds max_age, std::size_t cap)
    : max_age_(max_age.count()), cap_(cap == 0 ? 1 : cap) {}

Rejection ReplayCache::check(std::string_view event_id, std::int64_t ts) const {
  std::lock_guard<std::mutex> g(mu_);
  if (ts <= floor_) return Rejection::kStale;
  if (ids_.count(std::string(event_id)) != 0) return Rejection::kReplayed;
  return Rejection::kNone;
}

void ReplayCache::expire(std::int64_t now) {
  while (!by_ts_.empty() && by_ts_.begin()->first + max_age_ < now) {
    ids_.erase(by_ts_.begin()->second);
    by_ts_.erase(by_ts_.begin());
  }
}

void ReplayCache::remember(std::string_view event_id, std::int64_t ts, std::int64_t now) {
  std::lock_guard<std::mutex> g(mu_);
  expire(now);
  std::string id(event_id);
  if (!ids_.emplace(id, ts).second) return;
  by_ts_.emplace(ts, std::move(id));
  while (ids_.size() > cap_) {
    // Full: forget the oldest id and refuse everything that old from now on.
    auto oldest = by_ts_.begin();
    if (oldest->first > floor_) floor_ = oldest->first;
    ids_.erase(oldest->second);
    by_ts_.erase(oldest);
  }
}

std::size_t ReplayCache::size() const {
  std::lock_guard<std::mutex> g(mu_);
  return ids_.size();
}

std::int64_t ReplayCache::floor() const {
  std::lock_guard<std::mutex> g(mu_);
  return floor_;
}

Verifier::Verifier(std::shared_ptr<const TrustedKeys> keys, std::chrono::seconds max_age,
                   std::size_t replay_cap)
    : keys_(std::move(keys)), max_age_(max_age.count()), replay_(max_age, replay_cap) {}

std::shared_ptr<const TrustedKeys> Verifier::keys() const {
  std::lock_guard<std::mutex> g(keys_mu_);
  return keys_;
}

void Verifier::set_keys(std::shared_ptr<const TrustedKeys> keys) {
  std::lock_guard<std::mutex> g(keys_mu_);
  keys_ = std::move(keys);
}

Verifier::Verdict Verifier::verify(std::string_view routing_key, std::string_view message,
                                   std::int64_t now) const noexcept {
  Verdict v;
  try {
    auto e = parse_envelope(message);
    if (!e.ok()) {
      v.reason = Rejection::kUnsigned;
      return v;
    }
    v.envelope = *e;
    auto trusted = keys();
    const PublicKey* key = trusted ? trusted->find(e->sender, e->key_id) : nullptr;
    if (!key) {
      v.reason = Rejection::kUnknownKey;
      return v;
    }
    unsigned char sig[64];
    if (!signing::signature_from_hex(e->signature_hex, sig) ||
        !key->verify(
            signing::signing_input(routing_key, e->sender, e->key_id, e->ts, e->event_id, e->body),
            std::string_view(reinterpret_cast<const char*>(sig), sizeof(sig)))) {
      v.reason = Rejection::kBadSignature;
      return v;
    }
    if (routing_key_names_sender(routing_key)) {
      std::size_t dot = routing_key.rfind('.');
      if (routing_key.substr(dot + 1) != e->sender) {
        v.reason = Rejection::kWrongSender;
        return v;
      }
    }
    if (e->ts > now + max_age_ || e->ts < now - max_age_) {
      v.reason = Rejection::kStale;
      return v;
    }
    v.reason = replay_.check(e->event_id, e->ts);
  } catch (...) {
    v.reason = Rejection::kUnsigned;  // only an allocation failure gets here
  }
  return v;
}

void Verifier::accepted(const EnvelopeView& e, std::int64_t now) {
  replay_.remember(e.event_id, e.ts, now);
}

}  // namespace dfd::events
