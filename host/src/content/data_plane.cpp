#include "content/data_plane.hpp"

#include <csignal>
#include <mutex>

#include "content/event_loop.hpp"
#include "content/plane_context.hpp"
#include "content/response_writer.hpp"

namespace dfd::host {

struct DataPlane::Impl {
  Impl(Logger& l, Metrics& m, Auth& a, ContentSource& s, DataPlaneOptions o)
      : ctx(l, m, a, s, std::move(o)) {}
  std::mutex lifecycle_mu;  // guards ctx.loops against notify_tokens_changed() during stop()
  PlaneContext ctx;
};

DataPlane::DataPlane(Logger& log, Metrics& metrics, Auth& auth, ContentSource& source,
                     DataPlaneOptions options)
    : impl_(std::make_unique<Impl>(log, metrics, auth, source, std::move(options))) {}

DataPlane::~DataPlane() {
  stop(0);
}

Status DataPlane::start() noexcept {
  return guard("data plane", [&]() -> Status {
    std::lock_guard<std::mutex> g(impl_->lifecycle_mu);
    PlaneContext& m = impl_->ctx;
    if (m.running.load()) return Status::FailedPrecondition("already started");
    // Ignore SIGPIPE process-wide as a second line of defence (every send uses MSG_NOSIGNAL).
    ::signal(SIGPIPE, SIG_IGN);
    int n = std::max(1, m.opt.threads);
    std::uint64_t nofile = descriptor_limit();
    m.budget = descriptor_budget(static_cast<std::size_t>(std::max(0, m.opt.max_connections)),
                                 nofile, open_descriptors(), n);
    if (m.opt.max_connections > 0 &&
        m.budget.max_connections < static_cast<std::size_t>(m.opt.max_connections)) {
      m.log.warn("data plane: max_connections " + std::to_string(m.opt.max_connections) +
                 " lowered to " + std::to_string(m.budget.max_connections) +
                 " to fit the descriptor limit " + std::to_string(nofile));
    }
    m.connection_quota = std::make_unique<AddressQuota>(
        m.budget.max_connections,
        static_cast<std::size_t>(std::max(1, m.opt.max_connections_per_address)));
    m.parked_quota = std::make_unique<AddressQuota>(
        static_cast<std::size_t>(std::max(1, m.opt.max_parked)),
        static_cast<std::size_t>(std::max(1, m.opt.max_parked_per_address)));
    m.tls.reset();
    if (!m.opt.tls_cert.empty() || !m.opt.tls_key.empty()) {
      auto tls = TlsContext::create(m.opt.tls_cert, m.opt.tls_key);
      if (!tls.ok()) return tls.status().with_context("data plane TLS");
      m.tls = std::move(tls).value();
    }
    m.access_log.reset();
    if (!m.opt.access_log.empty()) {
      auto log = AccessLog::open(m.opt.access_log, m.log, m.metrics);
      if (!log.ok()) return log.status();
      m.access_log = std::move(log).value();
    }
    DFD_RETURN_IF_ERROR(m.listener.open(m.opt.listen));
    m.loops.clear();
    for (int i = 0; i < n; ++i) {
      m.loops.push_back(std::make_unique<EventLoop>(m, i));
      Status s = m.loops.back()->init();
      if (!s.ok()) {
        m.loops.clear();
        m.listener.close();
        m.access_log.reset();
        return s.with_context("data plane");
      }
    }
    m.handing_over.store(0);
    m.stopping.store(false);
    m.running.store(true);
    for (auto& l : m.loops) l->start();
    m.log.info("data plane listening on " + m.listener.bound_address() + " with " +
               std::to_string(n) + " event-loop thread(s), at most " +
               std::to_string(m.budget.max_connections) + " connection(s) (" +
               std::to_string(m.opt.max_connections_per_address) + " per address)");
    if (m.tls) {
      m.log.info(std::string("data plane: TLS only (TLS 1.2/1.3, ALPN http/1.1, session tickets); "
                             "kTLS ") +
                 (kernel_offers_ktls()
                      ? "offered by the kernel: bodies go with SSL_sendfile where a session gets it"
                      : "not offered by this kernel (no 'tls' ULP): bodies are encrypted in user "
                        "space from a " +
                            std::to_string(kStageSize / 1024) + " KiB buffer per transfer"));
    }
    if (m.access_log) {
      m.log.info("data plane: access log to " +
                 (m.opt.access_log == "-" ? std::string("stderr") : "'" + m.opt.access_log + "'"));
    }
    return Status::Ok();
  });
}

void DataPlane::stop(int grace_ms) noexcept {
  std::lock_guard<std::mutex> g(impl_->lifecycle_mu);
  PlaneContext& m = impl_->ctx;
  if (!m.running.exchange(false)) return;
  auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(std::max(0, grace_ms));
  m.grace_deadline_ns.store(deadline.time_since_epoch().count());
  m.stopping.store(true);
  for (auto& l : m.loops) l->wake();
  for (auto& l : m.loops) l->join();
  // Connections handed over but never picked up are closed by the loops' inbox on destruction.
  m.loops.clear();
  m.listener.close();
  m.access_log.reset();  // writes what the loops handed over, then joins its writer
}

void DataPlane::notify_tokens_changed() noexcept {
  std::lock_guard<std::mutex> g(impl_->lifecycle_mu);
  PlaneContext& m = impl_->ctx;
  if (!m.running.load()) return;
  for (auto& l : m.loops) l->post_tokens_changed();
}

std::string DataPlane::bound_address() const {
  return impl_->ctx.listener.bound_address();
}
int DataPlane::port() const noexcept {
  return impl_->ctx.listener.port();
}
std::int64_t DataPlane::active_connections() const noexcept {
  return impl_->ctx.connections.load();
}
bool DataPlane::running() const noexcept {
  return impl_->ctx.running.load();
}

}  // namespace dfd::host
