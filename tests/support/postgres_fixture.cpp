#include "postgres_fixture.hpp"

#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

namespace dfd::test {
namespace {

std::string script() {
  return source_dir() + "/scripts/postgres";
}

// DFD_PG_DSN='postgresql://...' → the value without quotes.
std::string unquote(std::string v) {
  if (v.size() >= 2 && v.front() == '\'' && v.back() == '\'') return v.substr(1, v.size() - 2);
  return v;
}

}  // namespace

PostgresInstance::PostgresInstance(bool tls, bool durable) {
  std::vector<std::string> argv{script(), "start", dir_.path() + "/pg"};
  if (tls) {
    argv.push_back("--tls");
    argv.push_back(dir_.path() + "/pki");
  }
  RunResult r = run(argv);
  if (r.status != 0) {
    error_ = "scripts/postgres start failed (" + std::to_string(r.status) + "): " + r.output;
    load_env();  // stop whatever did start
    return;
  }
  if (!load_env()) {
    error_ = "no postgres.env after scripts/postgres start: " + r.output;
    return;
  }
  if (durable) return;
  for (const char* sql : {"ALTER SYSTEM SET fsync = off", "ALTER SYSTEM SET full_page_writes = off",
                          "SELECT pg_reload_conf()"}) {
    RunResult s = psql(sql, "postgres");
    if (s.status != 0) error_ = std::string(sql) + ": " + s.output;
  }
}

PostgresInstance::~PostgresInstance() {
  if (env_.count("DFD_PG_PID") == 0) return;
  RunResult r = run({script(), "stop", dir_.path() + "/pg"});
  pid_t p = pid();
  if ((r.status != 0 || running()) && p > 0) ::kill(p, SIGKILL);
}

bool PostgresInstance::load_env() {
  std::ifstream in(dir_.path() + "/pg/postgres.env");
  if (!in) return false;
  std::string line;
  env_.clear();
  while (std::getline(in, line)) {
    auto eq = line.find('=');
    if (eq != std::string::npos) env_[line.substr(0, eq)] = unquote(line.substr(eq + 1));
  }
  return env_.count("DFD_PG_DSN") && env_.count("DFD_PG_PID") && env_.count("DFD_PG_PORT");
}

std::string PostgresInstance::password() const {
  std::string p = read_file(password_file());
  while (!p.empty() && (p.back() == '\n' || p.back() == '\r')) p.pop_back();
  return p;
}

int PostgresInstance::port() const {
  return std::stoi(env_.at("DFD_PG_PORT"));
}
pid_t PostgresInstance::pid() const {
  auto it = env_.find("DFD_PG_PID");
  return it == env_.end() || it->second.empty() ? -1 : static_cast<pid_t>(std::stol(it->second));
}

bool PostgresInstance::running() const {
  pid_t p = pid();
  if (p <= 0 || ::kill(p, 0) != 0) return false;
  return proc_status(p, "State").rfind("Z", 0) != 0;  // a zombie is not running
}

std::string PostgresInstance::dsn_for(const std::string& name) const {
  // postgresql://dfd@127.0.0.1:PORT/dfd[?query]
  const std::string& d = dsn();
  auto q = d.find('?');
  std::string base = d.substr(0, q);
  std::string query = q == std::string::npos ? "" : d.substr(q);
  return base.substr(0, base.rfind('/') + 1) + name + query;
}

RunResult PostgresInstance::psql(const std::string& sql, const std::string& db) const {
  return run(
      {script(), "psql", dir_.path() + "/pg", "-At", "-v", "ON_ERROR_STOP=1", "-d", db, "-c", sql});
}

std::string PostgresInstance::create_database(const std::string& name) {
  RunResult drop = psql("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
  RunResult make = psql("CREATE DATABASE " + name + " OWNER dfd");
  if (drop.status != 0 || make.status != 0) {
    ADD_FAILURE() << "create database " << name << ": " << drop.output << make.output;
    return "";
  }
  return dsn_for(name);
}

std::map<std::string, ConfigValue> PostgresInstance::plugin_config(const std::string& dsn) const {
  return {{"dsn", dsn.empty() ? this->dsn() : dsn}, {"password_file", password_file()}};
}

bool PostgresInstance::restart() {
  RunResult r = run({script(), "restart", dir_.path() + "/pg"});
  if (r.status != 0) {
    ADD_FAILURE() << "scripts/postgres restart: " << r.output;
    return false;
  }
  return load_env();
}

void PostgresInstance::kill() {
  pid_t p = pid();
  if (p <= 0) return;
  ::kill(p, SIGKILL);
  for (int i = 0; i < 100 && running(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

PostgresInstance& shared_postgres() {
  static PostgresInstance instance;  // destroyed (stopped by PID) at exit
  return instance;
}

}  // namespace dfd::test
