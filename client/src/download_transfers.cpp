// The transfer loop of DownloadEngine (download_engine.hpp): libcurl multi, one Transfer per
// chunk copy, response checks, body bytes into blocks, reaping of ended transfers.
#include <algorithm>
#include <cstring>

#include "dfd/wire/range.hpp"
#include "download_engine.hpp"
#include "util.hpp"

namespace dfd::client {

int DownloadEngine::loop() {
  auto last_save = Clock::now();
  auto last_progress = Clock::time_point{};
  while (!planner->done()) {
    report_prefix(false);  // first: it may block (a slow reader of -o -)
    auto now = Clock::now();
    if (options.interrupt && options.interrupt->load()) return exit_code::kInterrupted;
    if (hook_stop()) return exit_code::kInterrupted;
    if (options.deadline != Clock::time_point{} && now >= options.deadline)
      return exit_code::kDeadline;
    if (fatal) return fatal_code;
    pace(now);
    give_back_overcommitted(now);
    schedule(now);
    if (fatal) return fatal_code;
    if (transfers.empty() && verifying.empty()) {
      bool any = std::any_of(servers.begin(), servers.end(),
                             [](const FileServer& s) { return !s.report.dropped; });
      if (!any) return exit_code::kIncomplete;
    }
    unthrottle(Clock::now());
    int running = 0;
    curl_multi_perform(multi, &running);
    reap();
    check_digests();
    if (fatal) return fatal_code;
    if (planner->done()) break;
    now = Clock::now();
    check_stalls(now);
    remove_ended();
    if (now - last_save >= std::chrono::milliseconds(500)) {
      save_state(false);
      last_save = now;
    }
    schedule(now);  // refill before waiting, or a batch waits out the poll timeout
    if (now - last_progress >= std::chrono::milliseconds(250)) {
      report_progress(now);
      last_progress = now;
    }
    int numfds = 0;
    auto wait = std::chrono::milliseconds(transfers.empty() ? 20 : 100);
    auto throttled_for = unthrottle(Clock::now());
    if (throttled_for < wait)  // sleep until the speed limit lets a paused transfer go on
      wait = std::max(std::chrono::milliseconds(1),
                      std::chrono::ceil<std::chrono::milliseconds>(throttled_for));
    curl_multi_poll(multi, nullptr, 0, static_cast<int>(wait.count()), &numfds);
  }
  return 0;
}

void DownloadEngine::start_transfer(int si, std::size_t chunk, bool duplicate,
                                    Clock::time_point now) {
  auto& s = servers[static_cast<std::size_t>(si)];
  auto t = std::make_unique<Transfer>();
  t->owner = this;
  t->server = si;
  t->chunk = chunk;
  t->duplicate = duplicate;
  t->offset = manifest.chunk_offset(chunk);
  t->length = manifest.chunk_length(chunk);
  t->digest = hash_worker->open(manifest.alg);
  t->token = download_token;
  t->start = t->last_data = now;
  if (duplicate) t->buffer.reserve(static_cast<std::size_t>(t->length));
  CURL* e = curl_easy_init();
  if (!e) {
    planner->release(chunk, si);
    fail_fatal(exit_code::kFailure, "cannot create a libcurl handle");
    return;
  }
  t->easy = e;
  std::string url = s.location.url + "/v1/content/" + manifest.uid;
  std::string range = "Range: " + wire::format_range_request(t->offset, t->offset + t->length - 1);
  t->headers = curl_slist_append(t->headers, ("Authorization: Bearer " + download_token).c_str());
  t->headers = curl_slist_append(t->headers, range.c_str());
  t->headers = curl_slist_append(t->headers, "Connection: keep-alive");
  curl_easy_setopt(e, CURLOPT_URL, url.c_str());
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->headers);
  apply_curl_policy(e);  // http and https only, also for redirects
  curl_easy_setopt(e, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1);
  curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
  curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(options.connect_timeout.count()));
  if (min_speed() > 0) {
    curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, min_speed());
    curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, static_cast<long>(options.min_speed_time.count()));
  }
  curl_easy_setopt(e, CURLOPT_BUFFERSIZE, receive_buffer());
  curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, &DownloadEngine::on_header);
  curl_easy_setopt(e, CURLOPT_HEADERDATA, t.get());
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &DownloadEngine::on_body);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, t.get());
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->errbuf);
  curl_easy_setopt(e, CURLOPT_PRIVATE, t.get());
  curl_easy_setopt(e, CURLOPT_USERAGENT, "dfd/0.1");
  if (curl_multi_add_handle(multi, e) != CURLM_OK) {
    destroy_easy(*t);
    planner->release(chunk, si);
    fail_fatal(exit_code::kFailure, "cannot start a transfer (libcurl)");
    return;
  }
  ++s.in_flight;
  ++s.report.requests;
  if (duplicate) {
    ++active_duplicates;
    ++report.duplicates;
  }
  transfers.push_back(std::move(t));
}

size_t DownloadEngine::on_header(char* p, size_t sz, size_t n, void* ud) {
  auto* t = static_cast<Transfer*>(ud);
  std::string_view line(p, sz * n);
  if (!t->header_bytes.add(line.size())) {
    t->fault = Fault::kStrike;
    t->why = "response headers larger than " + std::to_string(kMaxHeaderBytes >> 10) + " KiB";
    return 0;
  }
  if (line.size() >= 5 && line.substr(0, 5) == "HTTP/") {
    t->status = 0;
    t->content_range.clear();
    auto sp = line.find(' ');
    if (sp != std::string_view::npos)
      t->status = std::atol(std::string(line.substr(sp + 1, 3)).c_str());
  } else {
    auto colon = line.find(':');
    if (colon != std::string_view::npos && lower(line.substr(0, colon)) == "content-range") {
      std::string v(line.substr(colon + 1));
      while (!v.empty() && (v.back() == '\r' || v.back() == '\n')) v.pop_back();
      t->content_range = v;
    }
  }
  return sz * n;
}

size_t DownloadEngine::on_body(char* p, size_t sz, size_t n, void* ud) {
  auto* t = static_cast<Transfer*>(ud);
  if (!t->owner->admit(*t, sz * n)) return CURL_WRITEFUNC_PAUSE;
  return t->owner->accept_body(*t, p, sz * n);
}

bool DownloadEngine::check_response(Transfer& t) {
  if (Fault f = fault_of_status(t.status); f != Fault::kNone) {
    t.fault = f;
    t.why = status_fault_message(t.status);
    return false;
  }
  auto cr = wire::parse_content_range(t.content_range);
  if (!cr || !cr->answers(t.offset, t.offset + t.length - 1, manifest.size)) {
    t.fault = Fault::kStrike;
    t.why = "Content-Range '" + printable(t.content_range) + "' does not match bytes " +
            std::to_string(t.offset) + "-" + std::to_string(t.offset + t.length - 1) + "/" +
            std::to_string(manifest.size);
    return false;
  }
  t.checked = true;
  return true;
}

size_t DownloadEngine::accept_body(Transfer& t, const char* p, size_t n) {
  if (!t.checked && !check_response(t)) return 0;
  if (t.received + n > t.length) {
    t.fault = Fault::kStrike;
    t.why = "sent more bytes than the range asked for";
    return 0;
  }
  // libcurl delivers at most 16 KiB per call: gather into a block and write/hash whole blocks
  // (16x fewer pwrite calls and worker hand-offs).
  for (std::size_t left = n, k = 0; left > 0; left -= k) {
    if (!t.block) {
      t.block = hash_worker->acquire();
      t.fill = 0;
    }
    k = std::min(left, HashWorker::kBlock - t.fill);
    std::memcpy(t.block + t.fill, p + (n - left), k);
    t.fill += k;
    if (t.fill == HashWorker::kBlock) {
      if (int e = flush(t)) {
        t.fault = Fault::kLocal;
        t.io_error = e;
        t.why = part.write_error(e);
        return 0;
      }
    }
  }
  t.received += n;
  report.bytes_received += n;
  pacer.on_bytes(static_cast<std::size_t>(t.server), n);
  t.last_data = Clock::now();
  auto& s = servers[static_cast<std::size_t>(t.server)];
  s.received += n;
  s.last_bytes = t.last_data;
  return n;
}

// Writes the filled part of t's block at its offset (a duplicate keeps it in memory) and hands
// the block to the worker for hashing. Returns 0 or errno (the block stays with t).
int DownloadEngine::flush(Transfer& t) {
  if (!t.block || t.fill == 0) return 0;
  if (t.duplicate) {
    t.buffer.append(t.block, t.fill);
  } else if (int e = part.write_at(t.block, t.fill, t.offset + t.flushed)) {
    return e;
  }
  hash_worker->submit(t.digest, t.block, t.fill);
  t.flushed += t.fill;
  t.block = nullptr;
  t.fill = 0;
  return 0;
}

void DownloadEngine::reap() {
  int left = 0;
  while (CURLMsg* msg = curl_multi_info_read(multi, &left)) {
    if (msg->msg != CURLMSG_DONE) continue;
    Transfer* t = nullptr;
    curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, reinterpret_cast<char**>(&t));
    if (!t) continue;
    CURLcode rc = msg->data.result;
    auto now = Clock::now();
    Fault f = t->fault;
    std::string why = t->why;
    if (f == Fault::kNone) {
      if (rc != CURLE_OK) {
        f = Fault::kTransport;
        why = printable(t->errbuf[0] ? t->errbuf : curl_easy_strerror(rc));
        const auto& loc = servers[static_cast<std::size_t>(t->server)].location;
        if (auto tls = tls_failure_message(rc, loc.url, why)) why = *tls;
      } else if (fault_of_status(t->status) != Fault::kNone) {
        f = fault_of_status(t->status);
        why = status_fault_message(t->status);
      } else if (t->received != t->length) {
        f = Fault::kTransport;
        why = "short body: " + std::to_string(t->received) + " of " + std::to_string(t->length) +
              " bytes";
      } else if (int e = flush(*t)) {
        f = Fault::kLocal;
        t->io_error = e;
        why = part.write_error(e);
      } else {
        // The body is complete: give the server its slot back now and let the worker finish
        // the digest; check_digests() applies the outcome.
        hash_worker->finish(t->digest);
        // Start writing the chunk to disk now (on the worker) so the closing fsync has little
        // left; a duplicate's bytes are only in memory until it wins.
        if (!t->duplicate) hash_worker->start_writeback(part.fd(), t->offset, t->length);
        destroy_easy(*t);
        auto& s = servers[static_cast<std::size_t>(t->server)];
        if (s.in_flight) --s.in_flight;
        t->slot_freed = true;
        freed_servers.push_back(t->server);
        for (auto it = transfers.begin(); it != transfers.end(); ++it) {
          if (it->get() == t) {
            verifying.push_back(std::move(*it));
            transfers.erase(it);
            break;
          }
        }
        continue;
      }
    }
    finish(*t, f, why, now);
  }
  remove_ended();
}

// Applies the outcome of every complete body whose digest the worker has computed.
void DownloadEngine::check_digests() {
  for (auto it = verifying.begin(); it != verifying.end() && !fatal && !hook_stop();) {
    Transfer& t = **it;
    if (!t.digest->done()) {
      ++it;
      continue;
    }
    Fault f = Fault::kNone;
    std::string why;
    if (t.digest->digest() != manifest.chunks[t.chunk]) {
      f = Fault::kStrike;
      why = "chunk " + std::to_string(t.chunk) + " digest mismatch";
    }
    finish(t, f, why, Clock::now());
    it = verifying.erase(it);
  }
}

void DownloadEngine::check_stalls(Clock::time_point now) {
  for (auto& t : transfers) {
    if (!t->easy || t->throttled) continue;  // a paused transfer is silent because we said so
    if (now - t->last_data >= options.stall_timeout) {
      t->fault = Fault::kTransport;
      t->why =
          "stalled: no data for " +
          std::to_string(
              std::chrono::duration_cast<std::chrono::milliseconds>(now - t->last_data).count()) +
          " ms";
      finish(*t, Fault::kTransport, t->why, now);
    }
  }
}

void DownloadEngine::cancel_all() {
  for (auto& t : transfers) {
    if (!t->easy) continue;
    auto& s = servers[static_cast<std::size_t>(t->server)];
    destroy_easy(*t);
    if (s.in_flight) --s.in_flight;
    planner->release(t->chunk, t->server);
  }
  transfers.clear();
  for (auto& t : verifying) planner->release(t->chunk, t->server);
  verifying.clear();
  active_duplicates = 0;
}

void DownloadEngine::destroy_easy(Transfer& t) {
  if (t.block) {
    hash_worker->release(t.block);
    t.block = nullptr;
    t.fill = 0;
  }
  if (t.easy) {
    curl_multi_remove_handle(multi, t.easy);
    curl_easy_cleanup(t.easy);
    t.easy = nullptr;
  }
  if (t.headers) {
    curl_slist_free_all(t.headers);
    t.headers = nullptr;
  }
}

void DownloadEngine::remove_ended() {
  transfers.remove_if([](const std::unique_ptr<Transfer>& t) { return t->easy == nullptr; });
}

// Test hook (--stop-after-chunks N): N chunks were fetched; nothing more is started or counted,
// so the loop stops like an interrupt however many chunks one turn of it completes.
bool DownloadEngine::hook_stop() const {
  return options.stop_after_chunks && report.chunks_fetched >= options.stop_after_chunks;
}

Transfer* DownloadEngine::find_copy(std::size_t chunk, int server) {
  for (auto& t : transfers)
    if (t->chunk == chunk && t->server == server && t->easy) return t.get();
  return nullptr;
}

}  // namespace dfd::client
