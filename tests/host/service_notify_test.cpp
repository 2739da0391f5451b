// ServiceNotifier (host/src/service_notify.hpp) against real AF_UNIX datagram sockets: the path
// and abstract forms, and addresses it must refuse without failing (the host keeps running).
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstddef>
#include <cstring>
#include <memory>
#include <sstream>
#include <string>

#include <spdlog/sinks/ostream_sink.h>

#include "service_notify.hpp"

namespace dfd::host {
namespace {

// A bound datagram socket: the service manager's end.
class Listener {
 public:
  explicit Listener(const std::string& address) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::memcpy(a.sun_path, address.data(), address.size());
    if (address[0] == '@') a.sun_path[0] = '\0';
    auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + address.size());
    bound_ = ::bind(fd_, reinterpret_cast<sockaddr*>(&a), len) == 0;
  }
  ~Listener() { ::close(fd_); }
  bool bound() const { return bound_; }
  std::string next() {
    char buf[4096];
    ssize_t n = ::recv(fd_, buf, sizeof buf, MSG_DONTWAIT);
    return n < 0 ? std::string("<nothing>") : std::string(buf, static_cast<std::size_t>(n));
  }

 private:
  int fd_ = -1;
  bool bound_ = false;
};

struct CapturedLog {
  std::ostringstream out;
  std::shared_ptr<spdlog::logger> logger = std::make_shared<spdlog::logger>(
      "notify-test", std::make_shared<spdlog::sinks::ostream_sink_st>(out));
};

TEST(ServiceNotifier, PathSocketGetsOneDatagramPerMessage) {
  char dir[] = "/tmp/dfd-notify-XXXXXX";
  ASSERT_NE(::mkdtemp(dir), nullptr);
  std::string path = std::string(dir) + "/notify.sock";
  Listener l(path);
  ASSERT_TRUE(l.bound());
  CapturedLog log;
  ServiceNotifier n(path, log.logger);
  ASSERT_TRUE(n.enabled());
  EXPECT_TRUE(n.ready("serving"));
  EXPECT_TRUE(n.status("waiting for: x"));
  EXPECT_TRUE(n.stopping("SIGTERM: shutting down"));
  EXPECT_EQ(l.next(), "READY=1\nSTATUS=serving");
  EXPECT_EQ(l.next(), "STATUS=waiting for: x");
  EXPECT_EQ(l.next(), "STOPPING=1\nSTATUS=SIGTERM: shutting down");
  EXPECT_EQ(l.next(), "<nothing>");
  EXPECT_EQ(log.out.str(), "");
  ::unlink(path.c_str());
  ::rmdir(dir);
}

TEST(ServiceNotifier, AbstractNameAndReloadingCarriesMonotonicTime) {
  std::string name = "@dfd-notify-unit-" + std::to_string(::getpid());
  Listener l(name);
  ASSERT_TRUE(l.bound());
  CapturedLog log;
  ServiceNotifier n(name, log.logger);
  EXPECT_TRUE(n.reloading("rescanning"));
  std::string m = l.next();
  EXPECT_EQ(m.rfind("RELOADING=1\nMONOTONIC_USEC=", 0), 0u) << m;
  EXPECT_NE(m.find("\nSTATUS=rescanning"), std::string::npos) << m;
}

TEST(ServiceNotifier, OffWithoutAnAddressAndRefusesOthersWithoutFailing) {
  CapturedLog log;
  ServiceNotifier off("", log.logger);
  EXPECT_FALSE(off.enabled());
  EXPECT_FALSE(off.ready("x"));
  EXPECT_EQ(log.out.str(), "");  // no NOTIFY_SOCKET: silent
  for (std::string bad : {std::string("relative/notify.sock"), std::string("vsock:2:1234"),
                          std::string("@"), "/" + std::string(200, 'x')}) {
    CapturedLog l;
    ServiceNotifier n(bad, l.logger);
    EXPECT_FALSE(n.enabled()) << bad;
    EXPECT_FALSE(n.ready("x")) << bad;
    EXPECT_NE(l.out.str().find("no readiness notifications"), std::string::npos) << bad;
  }
}

TEST(ServiceNotifier, NobodyListeningWarnsOnceAndNeverBlocks) {
  CapturedLog log;
  ServiceNotifier n("/nonexistent-dir/notify.sock", log.logger);
  ASSERT_TRUE(n.enabled());
  EXPECT_FALSE(n.ready("a"));
  EXPECT_FALSE(n.ready("b"));
  EXPECT_FALSE(n.stopping("c"));
  std::string out = log.out.str();
  EXPECT_EQ(out.find("notification not sent"), out.rfind("notification not sent")) << out;
  EXPECT_NE(out.find("notification not sent"), std::string::npos) << out;
}

}  // namespace
}  // namespace dfd::host
