#include "real_cluster.hpp"

#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>

namespace dfd::test {

namespace {
// The value of VAR in a shell env file, without quotes; "" when absent.
std::string env_value(const std::string& file_text, const std::string& var) {
  const std::string text = "\n" + file_text;  // every line starts after a \n
  auto pos = text.find("\n" + var + "=");
  if (pos == std::string::npos) return {};
  pos += 2 + var.size();
  std::string v = text.substr(pos, text.find('\n', pos) - pos);
  for (char q : {'"', '\''}) {
    while (!v.empty() && v.front() == q) v.erase(0, 1);
    while (!v.empty() && v.back() == q) v.pop_back();
  }
  return v;
}
}  // namespace

void RealCluster::start_rabbit() {
  std::vector<std::string> argv{source_dir() + "/scripts/rabbitmq", "start", rabbit_dir()};
  for (auto& a : tls.rabbitmq_start_args()) argv.push_back(a);
  if (rabbit_nodes > 1) {
    argv.push_back("--nodes");
    argv.push_back(std::to_string(rabbit_nodes));
  }
  auto r = run(argv);
  // Also after a failed start: whatever it started is stopped if this process dies.
  rabbit_watchdog_ =
      start_watchdog("\"" + source_dir() + "/scripts/rabbitmq\" stop \"" + rabbit_dir() + "\"");
  ASSERT_EQ(r.status, 0) << r.output;
  const auto env = read_file(rabbit_dir() + "/rabbitmq.env");
  amqp_url = env_value(env, tls.amqp_url_variable());
  ASSERT_FALSE(amqp_url.empty()) << env;
  amqp_urls = {amqp_url};
  if (rabbit_nodes > 1) {
    const auto list = env_value(env, tls.amqp_url_variable() + "S");
    amqp_urls.clear();
    for (std::size_t at = 0; at <= list.size();) {
      auto comma = std::min(list.find(',', at), list.size());
      if (comma > at) amqp_urls.push_back(list.substr(at, comma - at));
      at = comma + 1;
    }
    ASSERT_EQ(amqp_urls.size(), static_cast<std::size_t>(rabbit_nodes)) << env;
  }
}

std::string RealCluster::broker_url_lines() const {
  if (amqp_urls.size() <= 1) return "url = \"" + amqp_url + "\"\n";
  std::string out = "urls = [";
  for (std::size_t i = 0; i < amqp_urls.size(); ++i) {
    out += (i ? ", \"" : "\"") + amqp_urls[i] + "\"";
  }
  return out + "]\n";
}

bool RealCluster::rabbit_node(const std::string& command, int i, std::string* output) {
  auto r = run({source_dir() + "/scripts/rabbitmq", command, rabbit_dir(), std::to_string(i)});
  if (output) *output = r.output;
  return r.status == 0;
}

std::string RealCluster::events_table(const std::string& id, bool info_role) {
  auto r = event_keys(keys_dir(), info_role ? "info" : "fileserver", id);
  EXPECT_EQ(r.status, 0) << r.output;
  return "[events]\nsigning_key = \"" + keys_dir() + "/" + id + ".key\"\ntrusted_keys = \"" +
         (info_role ? info_trusted_dir() : fs_trusted_dir()) +
         "\"\nmax_age_s = " + std::to_string(events_max_age_s) + "\n\n";
}

std::map<std::string, std::string> RealCluster::broker_options(const std::string& queue) const {
  std::map<std::string, std::string> o{{"url", amqp_url}, {"queue", queue}};
  if (tls.on) o["ca_file"] = tls.ca_file();
  return o;
}

void RealCluster::write_info_config(const std::string& admin_email) {
  std::string port = std::to_string(free_port());
  info_url = tls.scheme() + "://127.0.0.1:" + port;
  info_config = tmp.file("info.toml");
  write_file(info_config,
             "[server]\nid = \"info\"\nzone = \"zone-a\"\nlisten = \"127.0.0.1:" + port +
                 "\"\nthreads = 8\nstate_dir = \"" + tmp.file("info") +
                 "\"\nshutdown_grace_ms = 2000\n\n" + events_table("info", true) +
                 "[[plugin]]\nname = \"auth-sqlite\"\ndb = \"" + tmp.file("info/auth.db") +
                 "\"\nkdf_iterations = 1000\n\n"
                 "[[plugin]]\nname = \"broker-rabbitmq\"\n" +
                 broker_url_lines() +
                 // As configs/info.toml: token.issued transient, the rest persistent.
                 "transient = [\"token.issued\"]\n\n"
                 "[[plugin]]\nname = \"info-sqlite\"\ndb = \"" +
                 tmp.file("info/catalog.db") + "\"\nadmin_email = \"" + admin_email +
                 "\"\nadmin_password_env = \"DFD_E2E_ADMIN_PASSWORD\"\n"
                 "heartbeat_timeout_ms = 1500\naudit_log = \"" +
                 tmp.file("info/audit.log") + "\"\n");
  tls.apply_to(info_config);
}

ClusterFileServer& RealCluster::add_file_server(const std::string& id, const std::string& zone,
                                                std::uint64_t chunk_size) {
  ClusterFileServer f;
  f.id = id;
  f.zone = zone;
  std::string cport = std::to_string(free_port()), dport = std::to_string(free_port());
  f.control = tls.scheme() + "://127.0.0.1:" + cport;
  f.content_url = tls.scheme() + "://127.0.0.1:" + dport;  // [content] TLS follows [server]
  f.dir = tmp.file(id);
  std::filesystem::create_directories(f.root());
  f.config = tmp.file(id + ".toml");
  write_file(f.config, "[server]\nid = \"" + id + "\"\nzone = \"" + zone +
                           "\"\nlisten = \"127.0.0.1:" + cport + "\"\nstate_dir = \"" + f.dir +
                           "\"\nshutdown_grace_ms = 2000\n\n" + events_table(id, false) +
                           "[content]\nlisten = \"127.0.0.1:" + dport + "\"\npublic_url = \"" +
                           f.content_url + "\"\nchunk_size = " + std::to_string(chunk_size) +
                           "\nheartbeat_interval_ms = 200\ntoken_wait_ms = 2000\n\n"
                           "[[plugin]]\nname = \"digest-openssl\"\n\n"
                           "[[plugin]]\nname = \"storage-fs\"\nroot = \"" +
                           f.root() +
                           "\"\nsettle_ms = 0\n\n"
                           "[[plugin]]\nname = \"auth-sqlite\"\ndb = \"" +
                           f.dir +
                           "/tokens.db\"\nkdf_iterations = 1000\n\n"
                           "[[plugin]]\nname = \"broker-rabbitmq\"\n" +
                           broker_url_lines());
  // A running info server reads its trust folder again on SIGHUP.
  if (info && info->running()) info->signal(SIGHUP);
  tls.apply_to(f.config);
  fs.push_back(std::move(f));
  return fs.back();
}

void RealCluster::start_info(const std::string& admin_password) {
  info = std::make_unique<Process>(
      std::vector<std::string>{bin("dfd-host"), "--config", info_config},
      std::map<std::string, std::string>{{"DFD_E2E_ADMIN_PASSWORD", admin_password}},
      tmp.file("info.log"));
  ASSERT_TRUE(wait_http(info_url + "/healthz")) << info->log();
}

void RealCluster::start_fs(ClusterFileServer& f) {
  f.proc =
      std::make_unique<Process>(std::vector<std::string>{bin("dfd-host"), "--config", f.config},
                                std::map<std::string, std::string>{}, f.dir + ".log");
  ASSERT_TRUE(wait_http(f.control + "/healthz")) << f.proc->log();
}

void RealCluster::stop_all() {
  for (auto& f : fs) {
    if (f.proc) f.proc->signal(SIGCONT);
    f.proc.reset();
  }
  info.reset();
  stop_watchdog(rabbit_watchdog_);
  run({source_dir() + "/scripts/rabbitmq", "stop", rabbit_dir()});
}

}  // namespace dfd::test
