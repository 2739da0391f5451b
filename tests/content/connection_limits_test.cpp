// The pure pieces of the data plane's limits: quotas, the descriptor budget and the content
// target (Bearer parsing and token syntax: tests/sdk/wire_bearer_test.cpp).
#include <gtest/gtest.h>
#include <netinet/in.h>

#include <cstring>

#include "content/connection_limits.hpp"
#include "content/request_target.hpp"

namespace dfd::host {
namespace {

TEST(AddressQuota, CapsPerAddressAndInTotal) {
  AddressQuota q(3, 2);
  EXPECT_EQ(q.acquire("a"), AddressQuota::Verdict::kAdmitted);
  EXPECT_EQ(q.acquire("a"), AddressQuota::Verdict::kAdmitted);
  EXPECT_EQ(q.acquire("a"), AddressQuota::Verdict::kOverAddress);
  EXPECT_EQ(q.acquire("b"), AddressQuota::Verdict::kAdmitted);
  EXPECT_EQ(q.acquire("c"), AddressQuota::Verdict::kOverTotal);
  EXPECT_EQ(q.total(), 3u);
  q.release("a");
  EXPECT_EQ(q.held_by("a"), 1u);
  EXPECT_EQ(q.acquire("c"), AddressQuota::Verdict::kAdmitted);
  q.release("nobody");  // ignored
  EXPECT_EQ(q.total(), 3u);
}

TEST(AddressQuota, Ipv4MappedIpv6IsTheSameAddress) {
  sockaddr_storage v4{}, v6{};
  auto* a = reinterpret_cast<sockaddr_in*>(&v4);
  a->sin_family = AF_INET;
  a->sin_addr.s_addr = htonl(0x7f000002);
  auto* b = reinterpret_cast<sockaddr_in6*>(&v6);
  b->sin6_family = AF_INET6;
  b->sin6_addr.s6_addr[10] = b->sin6_addr.s6_addr[11] = 0xff;
  std::uint32_t ip = htonl(0x7f000002);
  std::memcpy(&b->sin6_addr.s6_addr[12], &ip, 4);
  EXPECT_EQ(address_key(v4), address_key(v6));
  EXPECT_EQ(address_key(v4).size(), 4u);
}

TEST(DescriptorBudget, LeavesAReserveAndHonoursTheConfiguredCap) {
  auto small = descriptor_budget(0, 256, 12, 2);
  EXPECT_EQ(small.max_connections, 256u - 64 - 12);
  EXPECT_GE(small.max_refusing, 4u);
  EXPECT_LE(small.max_connections + small.max_refusing + 2 * small.file_cache + 12, 256u);
  auto big = descriptor_budget(0, 20000, 30, 2);
  EXPECT_EQ(big.max_connections, 20000u - 5000 - 30);
  EXPECT_EQ(descriptor_budget(100, 20000, 30, 2).max_connections, 100u);
  EXPECT_EQ(descriptor_budget(0, 16, 30, 2).max_connections, 8u);  // never below 8
}

TEST(RequestTarget, ContentUid) {
  std::string uid;
  EXPECT_EQ(content_uid_of("/v1/content/ab%2e?x=1#f", &uid), ContentTarget::kUid);
  EXPECT_EQ(uid, "ab.");
  EXPECT_EQ(content_uid_of("http://h:1/v1/content/ab", &uid), ContentTarget::kUid);
  EXPECT_EQ(uid, "ab");
  EXPECT_EQ(content_uid_of("/v1/content/", &uid), ContentTarget::kNotContent);
  EXPECT_EQ(content_uid_of("/v1/other/ab", &uid), ContentTarget::kNotContent);
  EXPECT_EQ(content_uid_of("*", &uid), ContentTarget::kNotContent);
  EXPECT_EQ(content_uid_of("/v1/content/%zz", &uid), ContentTarget::kBadEscape);
}

}  // namespace
}  // namespace dfd::host
