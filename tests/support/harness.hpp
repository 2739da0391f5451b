// Test harness shared by integration tests: real processes on loopback, cleaned up by PID.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <string>
#include <vector>

namespace dfd::test {

// Paths of the build (set by CMake through compile definitions).
std::string build_dir();                   // .../build
std::string source_dir();                  // repository root
std::string bin(const std::string& name);  // build/bin/NAME
std::string plugin_dir();                  // build/plugins

// A fresh directory under $TMPDIR, removed (recursively) by the destructor.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string file(const std::string& rel) const { return path_ + "/" + rel; }

 private:
  std::string path_;
};

void write_file(const std::string& path, const std::string& content);
std::string read_file(const std::string& path);

// A TCP port on 127.0.0.1 that was free a moment ago.
int free_port();

// A child process with stdout+stderr captured to a log file. The destructor SIGKILLs it if it is
// still running.
class Process {
 public:
  Process(std::vector<std::string> argv, std::map<std::string, std::string> env = {},
          std::string log_path = "");
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }
  bool running();
  void signal(int sig);
  // Waits for exit up to `timeout`; returns the exit status (128+sig if killed), or -1 on timeout.
  int wait(std::chrono::milliseconds timeout);
  std::string log() const;  // what it printed so far
  const std::string& log_path() const { return log_path_; }

 private:
  pid_t pid_ = -1;
  int status_ = -1;
  bool reaped_ = false;
  std::string log_path_;
  bool own_log_ = false;
};

// A detached shell (own session) that runs the shell command `cleanup` once this process is gone
// (crash, abort, a ctest timeout), e.g. "scripts/rabbitmq stop DIR": what a test started outside
// its own process tree is stopped even when the test cannot tear down. Returns its pid (-1 on
// failure); stop_watchdog() ends it without running `cleanup`.
pid_t start_watchdog(const std::string& cleanup);
void stop_watchdog(pid_t& watchdog);

// The value of a "Name: value" line of /proc/PID/status (VmHWM, VmRSS, Threads), or "".
std::string proc_status(pid_t pid, const std::string& name);

// Runs a command to completion (stdout+stderr captured); returns exit status and output.
struct RunResult {
  int status = -1;
  std::string output;
};
RunResult run(std::vector<std::string> argv, const std::string& stdin_data = "",
              std::map<std::string, std::string> env = {});

// scripts/event-keys DIR ROLE NAME (ROLE "info" or "fileserver"): an event-signing key pair in
// the layout of the shipped configs' [events] (DIR/NAME.key, DIR/trusted-by-fs|info/NAME.pub).
// The output is the key id.
RunResult event_keys(const std::string& dir, const std::string& role, const std::string& name);

// Minimal HTTP over libcurl for tests.
struct HttpReply {
  long status = 0;                             // 0 = transport failure
  std::map<std::string, std::string> headers;  // lower-case names (last value wins)
  std::string body;
  std::string error;
};
// TLS for every later http()/wait_http() of this process (https URLs): the CA bundle the server
// is checked against (empty: the system's store) and an optional client certificate. Set it
// before the requests (not thread-safe against them).
struct HttpTls {
  std::string ca_file;
  std::string cert_file;
  std::string key_file;
};
void set_http_tls(HttpTls tls);
const HttpTls& http_tls();

// A private CA and leaf certificates from scripts/pki: DIR/ca.pem, DIR/NAME.pem, DIR/NAME.key
// (keys 0600) for 127.0.0.1/localhost. Default names: "server" and "client". False on failure.
bool make_pki(const std::string& dir, const std::vector<std::string>& names = {});

HttpReply http(const std::string& method, const std::string& url,
               const std::vector<std::string>& headers = {}, const std::string& body = "",
               long timeout_ms = 10000);

// Polls `url` until it answers `want_status` (or `timeout` passes). Returns true on success.
bool wait_http(const std::string& url, long want_status = 200,
               std::chrono::milliseconds timeout = std::chrono::seconds(20));

}  // namespace dfd::test
