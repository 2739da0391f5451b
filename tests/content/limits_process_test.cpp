// The file server as a real process under a small descriptor limit (issue 11, "Limits"): 400
// idle connections under `prlimit --nofile=256` must not starve a normal ranged GET, and the
// server must neither spin nor stop answering.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "file_server_process.hpp"

namespace dfd::test {
namespace {

using namespace std::chrono_literals;

// Total CPU seconds (user + system) a process used so far, from /proc/PID/stat.
double process_cpu_seconds(pid_t pid) {
  std::string stat = read_file("/proc/" + std::to_string(pid) + "/stat");
  std::size_t p = stat.rfind(')');
  std::istringstream in(stat.substr(p + 2));
  std::string field;
  double ticks = 0;
  for (int i = 3; i <= 15 && in >> field; ++i) {
    if (i == 14 || i == 15) ticks += std::stod(field);  // utime, stime
  }
  return ticks / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

TEST(LimitsProcessTest, IdleConnectionsUnderASmallFdLimitStarveNobody) {
  FileServerProcess fs;
  ASSERT_TRUE(fs.start("", {"prlimit", "--nofile=256", "--"})) << fs.host_->log();
  std::string t = fs.token(fs.uid_);
  ASSERT_EQ(http("GET", fs.data_ + fs.uid_, {fs.auth(t), "Range: bytes=0-9"}).status, 206);

  std::vector<std::unique_ptr<RawClient>> idle;
  for (int i = 0; i < 400; ++i) {
    idle.push_back(std::make_unique<RawClient>(fs.data_port_));
    ASSERT_TRUE(idle.back()->connected()) << i;
  }
  // Let the server take in what it can; idle for longer than the 500 ms a new connection is
  // given to send its first request before it may be evicted.
  std::this_thread::sleep_for(700ms);

  auto r = http("GET", fs.data_ + fs.uid_, {fs.auth(t), "Range: bytes=1000-1999"});
  ASSERT_EQ(r.status, 206) << r.error << "\n" << fs.host_->log();
  EXPECT_EQ(r.body, fs.content_.substr(1000, 1000));
  EXPECT_EQ(http("GET", fs.ctl_ + "/healthz").status, 200);

  // No spinning: with 400 idle connections held open, the server sleeps.
  double c0 = process_cpu_seconds(fs.host_->pid());
  std::this_thread::sleep_for(1s);
  double used = process_cpu_seconds(fs.host_->pid()) - c0;
  EXPECT_LT(used, 0.3) << "CPU seconds used in 1 s with 400 idle connections";
  std::cout << "[ figures  ] dfd-host under nofile=256 with 400 idle connections: VmHWM "
            << fs.proc_status("VmHWM") << ", CPU in 1 s idle: " << used << " s\n";

  idle.clear();
  EXPECT_EQ(http("GET", fs.data_ + fs.uid_, {fs.auth(t), "Range: bytes=0-0"}).status, 206);
  EXPECT_EQ(fs.stop(), 0) << fs.host_->log();
}

}  // namespace
}  // namespace dfd::test
