// Downloader and the run of DownloadEngine (download_engine.hpp): the part, the attempts, the
// result; the transfer loop, scheduling, outcomes and progress live in download_*.cpp.
#include "downloader.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <mutex>

#include "download_engine.hpp"
#include "util.hpp"

namespace dfd::client {

namespace {
void curl_init_once() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}
}  // namespace

DownloadEngine::DownloadEngine(Manifest m, DownloadOptions o)
    : manifest(std::move(m)),
      options(std::move(o)),
      part(manifest, options.output, options.force, options.preallocate) {}

DownloadEngine::~DownloadEngine() {
  for (auto& t : transfers) destroy_easy(*t);
  transfers.clear();
  verifying.clear();
  hash_worker.reset();
  prefix_hasher.reset();
  if (multi) curl_multi_cleanup(multi);
}

void DownloadEngine::fail_fatal(int code, std::string message) {
  if (fatal) return;
  fatal = true;
  fatal_code = code;
  fatal_message = std::move(message);
}

void DownloadEngine::set_result(int code, std::string message) {
  report.ok = code == 0;
  report.exit_code = code;
  report.error = std::move(message);
}

void DownloadEngine::add_server(const Location& loc) {
  FileServer s;
  s.location = loc;
  s.report.id = loc.server_id;
  s.report.zone = loc.zone;
  s.report.url = loc.url;
  servers.push_back(std::move(s));
  pacer.resize(servers.size());
}

std::size_t DownloadEngine::verified_chunks() const {
  return planner ? planner->verified_count() : report.chunks_resumed;
}

// "N of M chunks are verified and kept for a rerun" (or that nothing was verified).
std::string DownloadEngine::kept_message() const {
  if (verified_chunks() == 0) return "no chunk was verified yet";
  return std::to_string(verified_chunks()) + " of " + std::to_string(manifest.chunk_count()) +
         " chunks are verified and kept for a rerun";
}

std::string DownloadEngine::all_servers_failed_message() const {
  std::string msg = verified_chunks() > 0
                        ? "every file server failed; the verified part is kept for a rerun:"
                        : "every file server failed; no chunk was verified, nothing is kept:";
  if (servers.empty()) return "no file server holds this file";
  for (const auto& s : servers) {
    // One line per server: what came from the network is escaped, newlines included.
    msg += "\n  " + printable(s.report.id + " (" + s.report.url + "): " +
                              (s.report.dropped ? s.report.drop_reason : s.report.last_error));
  }
  return msg;
}

DownloadReport DownloadEngine::run() {
  started = Clock::now();
  report.path = options.output;
  report.uid = manifest.uid;
  report.name = manifest.name;
  report.size = manifest.size;
  report.alg = manifest.alg;
  report.chunk_size = manifest.chunk_size;
  report.chunks_total = manifest.chunk_count();
  download_token = manifest.download_token;
  for (const auto& loc : manifest.locations)
    if (loc.healthy) add_server(loc);
  run_inner();
  // A failure keeps nothing useless: a part without a verified chunk goes (an interrupt is the
  // user's pause, not a failure: what arrived stays, as before).
  if (!report.ok && report.exit_code != exit_code::kInterrupted && verified_chunks() == 0)
    part.discard();
  auto end = Clock::now();
  report_progress(end, true);
  report.seconds = seconds_between(started, end);
  report.average_speed =
      report.seconds > 0 ? static_cast<double>(report.bytes_fetched) / report.seconds : 0;
  for (const auto& s : servers) report.servers.push_back(s.report);
  return report;
}

void DownloadEngine::run_inner() {
  std::string error;
  if (int code = part.open(error)) {
    set_result(code, error);
    return;
  }
  report.restarted = part.restarted();
  std::vector<bool> bits = part.resumed_chunks();
  report.chunks_resumed = 0;
  for (bool b : bits) report.chunks_resumed += b;

  curl_init_once();
  multi = curl_multi_init();
  std::size_t n = std::max<std::size_t>(servers.size(), 1);
  max_transfers = options.connections
                      ? options.connections
                      : std::max<std::size_t>(8, std::min<std::size_t>(16, options.per_server * n));
  max_duplicates = std::max<std::size_t>(
      1, std::min<std::size_t>(4, (32u << 20) / std::max<std::uint64_t>(manifest.chunk_size, 1)));
  // Blocks: one being filled per transfer plus 16 queued for hashing (4 MiB).
  hash_worker =
      std::make_unique<HashWorker>([this] { curl_multi_wakeup(multi); }, max_transfers + 16);
  curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS,
                    static_cast<long>(max_transfers + n * options.per_server));
  curl_multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS,
                    static_cast<long>(options.per_server + 2));

  bool trusted = part.resumed();
  for (int attempt = 0; attempt < 2; ++attempt) {
    planner = std::make_unique<ChunkPlanner>(manifest.chunk_count());
    for (std::size_t i = 0; i < bits.size(); ++i)
      if (bits[i]) planner->mark_verified(i);
    prefix_hasher = std::make_unique<PrefixHasher>(part.fd(), manifest.alg, manifest.size);
    advance_verified_prefix();
    save_state(true);
    if (fatal) {
      set_result(fatal_code, fatal_message);
      return;
    }
    if (servers.empty() && !planner->done()) {
      set_result(exit_code::kIncomplete, "no healthy file server holds this file");
      return;
    }
    int code = loop();
    cancel_all();
    save_state(true);
    if (code != 0) {
      prefix_hasher.reset();
      if (code == exit_code::kIncomplete) {
        set_result(code, all_servers_failed_message());
      } else if (code == exit_code::kDeadline) {
        char secs_text[32];
        std::snprintf(secs_text, sizeof secs_text, "%g", options.deadline_s);
        set_result(code,
                   std::string("the deadline of ") + secs_text + " s passed; " + kept_message());
      } else if (code == exit_code::kInterrupted) {
        set_result(code, "interrupted; " + kept_message());
      } else {
        set_result(code, fatal ? fatal_message : "download failed");
      }
      return;
    }
    prefix_hasher->advance(manifest.size);
    std::string digest;
    if (!prefix_hasher->finish(digest)) {
      set_result(exit_code::kLocalIo, digest);
      return;
    }
    prefix_hasher.reset();
    if (digest == manifest.digest) {
      report.digest_verified = true;
      report_prefix(true);
      break;
    }
    if (attempt == 0 && trusted) {
      // Chunks trusted from the state file may be stale (e.g. the .part was changed behind our
      // back): check them once from disk and fetch again what is wrong.
      bits = planner->verified_bitmap();
      long bad = part.reverify(bits);
      if (bad < 0) {
        set_result(exit_code::kLocalIo,
                   io_message("cannot read back", part.part_path(), errno ? errno : EIO));
        return;
      }
      if (bad > 0) continue;
    }
    set_result(exit_code::kDigest, "whole-file " + manifest.alg + " mismatch: expected " +
                                       manifest.digest + ", got " + digest + "; state kept in " +
                                       part.state_path());
    return;
  }
  if (!report.digest_verified) {
    set_result(exit_code::kDigest,
               "whole-file digest mismatch; state kept in " + part.state_path());
    return;
  }
  if (auto e = part.commit(); !e.empty()) {
    set_result(exit_code::kLocalIo, e);
    return;
  }
  set_result(exit_code::kOk, "");
}

struct Downloader::Impl {
  DownloadEngine engine;
  Impl(Manifest m, DownloadOptions o) : engine(std::move(m), std::move(o)) {}
};

Downloader::Downloader(Manifest manifest, DownloadOptions options)
    : impl_(new Impl(std::move(manifest), std::move(options))) {}

Downloader::~Downloader() {
  delete impl_;
}

DownloadReport Downloader::run() {
  return impl_->engine.run();
}

}  // namespace dfd::client
