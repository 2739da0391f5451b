// Load (issue 11, "The suite"): 1,000 connections at once to a real dfd-host file server, each
// sending a ranged GET. Every one must get a valid HTTP response (206 with the exact bytes, or
// 503 over a cap) or a clean close; none may hang; the server answers afterwards. The file
// server's peak RSS (VmHWM) is printed. Bounded: 1,000 connections, at most 25 s per phase.
// ctest label: load.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstring>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "file_server_process.hpp"

namespace dfd::test {
namespace {

using namespace std::chrono_literals;

constexpr int kConnections = 1000;
constexpr std::size_t kSlice = 16 * 1024;

enum class Outcome { kPending, kServed, kRefused, kClosed, kWrong };

struct Probe {
  int fd = -1;
  std::string request;
  std::size_t sent = 0;
  std::string in;
  std::size_t first = 0;  // first byte of the range asked for
  Outcome outcome = Outcome::kPending;
  int status = 0;
};

// Starts a non-blocking connect from 127.0.0.<1 + i % 4> (four client addresses).
int connect_from(int i, int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  sockaddr_in local{};
  local.sin_family = AF_INET;
  local.sin_addr.s_addr = htonl(INADDR_LOOPBACK + static_cast<std::uint32_t>(i % 4));
  ::bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);  // EINPROGRESS
  return fd;
}

// Judges a probe's input once the server closed or a whole response is there.
void judge(Probe& p, const std::string& content, bool eof) {
  std::size_t end = p.in.find("\r\n\r\n");
  if (end == std::string::npos) {
    if (eof) p.outcome = p.in.empty() ? Outcome::kClosed : Outcome::kWrong;
    return;
  }
  std::string head = p.in.substr(0, end);
  if (head.rfind("HTTP/1.1 ", 0) != 0) {
    p.outcome = Outcome::kWrong;
    return;
  }
  p.status = std::atoi(head.c_str() + 9);
  std::size_t cl = head.find("\r\nContent-Length: ");
  if (cl == std::string::npos) {
    p.outcome = Outcome::kWrong;
    return;
  }
  std::size_t len = std::stoull(head.substr(cl + 18));
  if (p.in.size() < end + 4 + len) {
    if (eof) p.outcome = Outcome::kWrong;  // a response cut short is not clean
    return;
  }
  std::string body = p.in.substr(end + 4, len);
  if (p.status == 206) {
    p.outcome = body == content.substr(p.first, kSlice) ? Outcome::kServed : Outcome::kWrong;
  } else if (p.status == 503 && body.find("{\"error\":") == 0) {
    p.outcome = Outcome::kRefused;
  } else {
    p.outcome = Outcome::kWrong;
  }
}

struct Tally {
  std::array<int, 5> count{};  // by Outcome (kPending after the deadline = hung)
  int of(Outcome o) const { return count[static_cast<std::size_t>(o)]; }
};

// Opens kConnections connections at once, each sending one ranged GET; waits for every outcome.
Tally storm(FileServerProcess& fs, const std::string& token) {
  std::vector<Probe> probes(kConnections);
  for (int i = 0; i < kConnections; ++i) {
    Probe& p = probes[static_cast<std::size_t>(i)];
    p.first = (static_cast<std::size_t>(i) * 7919) % (fs.content_.size() - kSlice);
    p.request = "GET /v1/content/" + fs.uid_ + " HTTP/1.1\r\nHost: x\r\n" + fs.auth(token) +
                "\r\nRange: bytes=" + std::to_string(p.first) + "-" +
                std::to_string(p.first + kSlice - 1) + "\r\n\r\n";
    p.fd = connect_from(i, fs.data_port_);
  }
  auto deadline = std::chrono::steady_clock::now() + 25s;
  std::vector<pollfd> fds;
  std::vector<Probe*> owners;
  char buf[65536];
  while (std::chrono::steady_clock::now() < deadline) {
    fds.clear();
    owners.clear();
    for (Probe& p : probes) {
      if (p.outcome != Outcome::kPending) continue;
      short ev = POLLIN;
      if (p.sent < p.request.size()) ev |= POLLOUT;
      fds.push_back({p.fd, ev, 0});
      owners.push_back(&p);
    }
    if (fds.empty()) break;
    if (::poll(fds.data(), fds.size(), 200) < 0) break;
    for (std::size_t k = 0; k < fds.size(); ++k) {
      Probe& p = *owners[k];
      if (fds[k].revents & POLLOUT) {
        ssize_t n =
            ::send(p.fd, p.request.data() + p.sent, p.request.size() - p.sent, MSG_NOSIGNAL);
        if (n > 0) p.sent += static_cast<std::size_t>(n);
      }
      if (fds[k].revents & (POLLIN | POLLHUP | POLLERR)) {
        bool eof = false;
        while (true) {
          ssize_t n = ::recv(p.fd, buf, sizeof buf, 0);
          if (n > 0) {
            p.in.append(buf, static_cast<std::size_t>(n));
            continue;
          }
          if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
          eof = true;  // EOF, ECONNRESET, ECONNREFUSED: the server closed
          break;
        }
        judge(p, fs.content_, eof);
        if (p.outcome == Outcome::kPending && eof) p.outcome = Outcome::kClosed;
      }
    }
  }
  Tally t;
  for (Probe& p : probes) {
    ::close(p.fd);
    ++t.count[static_cast<std::size_t>(p.outcome)];
  }
  return t;
}

void report(const char* what, const Tally& t, FileServerProcess& fs) {
  std::cout << "[ figures  ] " << what << ": " << kConnections
            << " connections: " << t.of(Outcome::kServed) << " served (206, exact bytes), "
            << t.of(Outcome::kRefused) << " refused (503), " << t.of(Outcome::kClosed)
            << " closed unanswered, " << t.of(Outcome::kWrong) << " wrong, "
            << t.of(Outcome::kPending) << " hung; dfd-host peak RSS (VmHWM) "
            << fs.proc_status("VmHWM") << "\n";
  std::string metrics = http("GET", fs.ctl_ + "/metrics").body;
  std::istringstream lines(metrics);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("dfd_content_refused_total", 0) == 0 ||
        line.rfind("dfd_content_evicted_connections_total", 0) == 0) {
      std::cout << "[ figures  ]   " << line << "\n";
    }
  }
}

void expect_clean_and_alive(const Tally& t, FileServerProcess& fs, const std::string& token) {
  EXPECT_EQ(t.of(Outcome::kWrong), 0);
  EXPECT_EQ(t.of(Outcome::kPending), 0);
  EXPECT_EQ(t.of(Outcome::kServed) + t.of(Outcome::kRefused) + t.of(Outcome::kClosed),
            kConnections);
  EXPECT_GT(t.of(Outcome::kServed), 0);
  auto r = http("GET", fs.data_ + fs.uid_, {fs.auth(token), "Range: bytes=100-199"});
  EXPECT_EQ(r.status, 206) << r.error;
  EXPECT_EQ(r.body, fs.content_.substr(100, 100));
  EXPECT_EQ(http("GET", fs.ctl_ + "/healthz").status, 200);
}

// Starts dfd-host (under `prefix`), storms it, reports and checks.
void storm_and_check(const char* what, const std::vector<std::string>& prefix) {
  FileServerProcess fs;
  ASSERT_TRUE(fs.start("", prefix)) << fs.host_->log();
  std::string t = fs.token(fs.uid_);
  Tally tally = storm(fs, t);
  report(what, tally, fs);
  expect_clean_and_alive(tally, fs, t);
  EXPECT_EQ(fs.stop(), 0) << fs.host_->log();
}

TEST(LoadProcessTest, AThousandConnectionsAreServedOrRefusedCleanly) {
  storm_and_check("default limits", {});
}

TEST(LoadProcessTest, AThousandConnectionsUnderASmallFdLimit) {
  storm_and_check("nofile=256", {"prlimit", "--nofile=256", "--"});
}

}  // namespace
}  // namespace dfd::test
