// Issue 15 (faults): the file server's data plane over a misbehaving storage. The whole role
// (ContentService: the content index and the data plane over one Storage) runs over
// dfd::testing::FaultStorage wrapping the real storage-fs plugin, with an in-memory token store;
// requests go over real loopback sockets. Storage failures must become clear HTTP answers or an
// honestly cut body, never a hang, a crash or a complete-looking lie, and one slow storage read
// must not hold other connections up.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "content/content_service.hpp"
#include "content_doubles.hpp"
#include "data_plane_fixture.hpp"
#include "dfd/testing/fault_storage.hpp"
#include "fake_host.hpp"
#include "harness.hpp"

namespace dfd::test {
namespace {

using namespace std::chrono_literals;
using dfd::testing::FaultStorage;
using Call = FaultStorage::Call;

// Waits (at most 10 s) for `done()`.
template <typename F>
bool eventually(F done) {
  auto end = std::chrono::steady_clock::now() + 10s;
  while (!done()) {
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

class DataPlaneFaultsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(::mkdir(dir_.file("root").c_str(), 0755), 0);
    ASSERT_EQ(::mkdir(dir_.file("state").c_str(), 0755), 0);
    big_ = pattern(1 << 20, 3);
    mid_ = pattern(100003, 5);
    write_file(dir_.file("root/big.bin"), big_);
    write_file(dir_.file("root/mid.bin"), mid_);
    write_file(dir_.file("root/small.txt"), small_);
    load(storage_, "storage-fs", {{"root", dir_.file("root")}, {"settle_ms", std::int64_t{0}}});
    load(digest_, "digest-openssl", {});
    faults_ = std::make_unique<FaultStorage>(*storage_.as<Storage>());
    identity_ = ServerIdentity{"fs-faults", "zone-f", "", dir_.file("state")};
  }
  // Loads plugin `name` (started) with `config` into `out`; its host is kept in plugin_hosts_.
  void load(LoadedPlugin& out, const char* name, std::map<std::string, ConfigValue> config) {
    plugin_hosts_.push_back(std::make_unique<FakeHost>(std::move(config), name));
    auto p = load_plugin(name, *plugin_hosts_.back());
    ASSERT_TRUE(p.ok()) << name << ": " << p.status().to_string();
    out = std::move(p.value());
  }
  void TearDown() override {
    if (service_) service_->stop(500);
    service_.reset();  // every handle of the wrapper is gone before the wrapper
  }

  // Starts the file server over the wrapper with `threads` event loops; the index's own calls
  // (list, open and read to hash, stat) are not counted.
  void start(int threads = 2) {
    host::ContentOptions o;
    o.listen = "127.0.0.1:0";
    o.threads = threads;
    host::ContentContext ctx{host_.logger(), host_.metrics(), host_.clock(),         identity_,
                             *faults_,       auth_,           *digest_.as<Digest>(), nullptr};
    service_ = std::make_unique<host::ContentService>(ctx, o);
    Status st = service_->start();
    ASSERT_TRUE(st.ok()) << st.to_string() << "\n" << host_.log_text();
    url_ = service_->public_url();
    std::string addr = service_->bound_address();
    port_ = std::stoi(addr.substr(addr.rfind(':') + 1));
    faults_->reset_counts();
  }

  HttpReply get(const std::string& content, std::vector<std::string> headers = {}) {
    std::string uid = sha256_hex(content);
    headers.push_back("Authorization: Bearer " + auth_.grant(uid));
    return http("GET", url_ + "/v1/content/" + uid, headers);
  }
  std::string request(const std::string& content) {
    std::string uid = sha256_hex(content);
    return "GET /v1/content/" + uid + " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
           auth_.grant(uid) + "\r\n\r\n";
  }
  // GET `content` on a new connection: the (possibly partial) response, and in `*closed` whether
  // the server closed the connection after it.
  RawResponse fetch_raw(const std::string& content, bool* closed) {
    RawClient c(port_);
    c.send_all(request(content));
    RawResponse r = c.read_response();
    *closed = c.closed_by_peer();
    return r;
  }
  // Rescans now and waits for that rescan to finish.
  void rescan() {
    std::uint64_t ticket = service_->request_rescan();
    ASSERT_TRUE(eventually([&] { return service_->rescan_finished(ticket); }));
  }

  TempDir dir_;
  std::string big_, mid_, small_ = "a small file\n";
  std::vector<std::unique_ptr<FakeHost>> plugin_hosts_;
  LoadedPlugin storage_, digest_;
  FakeHost host_;
  MemoryAuth auth_;
  ServerIdentity identity_;
  std::unique_ptr<FaultStorage> faults_;
  std::unique_ptr<host::ContentService> service_;
  std::string url_;
  int port_ = 0;
};

// ---------------------------------------------------------------- open() failures

TEST_F(DataPlaneFaultsTest, AFailedOpenIsAJsonErrorAndTheNextRequestIsServed) {
  start();
  faults_->fail_next(Call::kOpen, 1, Status::IoError("injected: the disk is on fire"));
  auto r = get(big_);
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(r.headers["content-type"], "application/json");
  EXPECT_NE(r.body.find("\"code\":\"io_error\""), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("\"message\":\"the file cannot be read\""), std::string::npos) << r.body;
  EXPECT_EQ(r.body.find("on fire"), std::string::npos) << "the storage's words stay in the log";
  EXPECT_NE(host_.log_text().find("injected: the disk is on fire"), std::string::npos);
  EXPECT_EQ(faults_->injected(), 1u);

  r = get(big_);
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(r.body == big_);
  EXPECT_EQ(faults_->calls(Call::kOpen), 2u);
}

TEST_F(DataPlaneFaultsTest, AFileGoneAtOpenIs404) {
  start();
  faults_->fail_next(Call::kOpen, 1, Status::NotFound("injected: removed behind our back"));
  auto r = get(small_);
  EXPECT_EQ(r.status, 404);
  EXPECT_NE(r.body.find("\"code\":\"not_found\""), std::string::npos) << r.body;
  EXPECT_EQ(get(small_).body, small_);
}

// ---------------------------------------------------------------- the index's calls

TEST_F(DataPlaneFaultsTest, AFailedListingKeepsServingTheLastIndex) {
  start();
  faults_->fail_next(Call::kList, 1, Status::IoError("injected: listing failed"));
  rescan();
  EXPECT_EQ(faults_->injected(), 1u);
  Health h = service_->health();
  EXPECT_FALSE(h.healthy);
  EXPECT_NE(h.detail.find("injected: listing failed"), std::string::npos) << h.detail;
  auto r = get(mid_);
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(r.body == mid_);

  rescan();
  EXPECT_TRUE(service_->health().healthy) << service_->health().detail;
}

TEST_F(DataPlaneFaultsTest, AFailedStatLeavesANewFileForTheNextScan) {
  start();
  const std::string added = "added after the start\n";
  write_file(dir_.file("root/added.txt"), added);
  faults_->only_path("added.txt");
  faults_->fail_next(Call::kStat, 1, Status::IoError("injected: stat failed"));
  rescan();
  EXPECT_EQ(faults_->injected(), 1u);
  EXPECT_EQ(get(added).status, 404);  // a valid token; the file is just not indexed yet
  EXPECT_EQ(get(small_).body, small_);

  rescan();
  auto r = get(added);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, added);
}

// ---------------------------------------------------------------- short reads

TEST_F(DataPlaneFaultsTest, ShortReadsStillGiveTheExactBytes) {
  start();
  faults_->hide_descriptors(true);
  for (std::size_t k : {1, 3, 7}) {
    SCOPED_TRACE("read_at returns at most " + std::to_string(k) + " bytes");
    faults_->short_reads(k);
    faults_->reset_counts();
    auto r = get(mid_);
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(r.headers["content-length"], std::to_string(mid_.size()));
    EXPECT_TRUE(r.body == mid_);
    EXPECT_GE(faults_->calls(Call::kReadAt), mid_.size() / k) << "the reads were really short";

    r = get(mid_, {"Range: bytes=1000-50999"});
    ASSERT_EQ(r.status, 206);
    EXPECT_TRUE(r.body == mid_.substr(1000, 50000));
    r = get(mid_, {"Range: bytes=-17"});
    ASSERT_EQ(r.status, 206);
    EXPECT_EQ(r.body, mid_.substr(mid_.size() - 17));
  }
  // Several ranges in one response (multipart/byteranges), each part exact.
  faults_->short_reads(5);
  auto r = get(mid_, {"Range: bytes=0-9,99990-"});
  ASSERT_EQ(r.status, 206);
  EXPECT_NE(r.body.find(mid_.substr(0, 10)), std::string::npos);
  EXPECT_NE(r.body.find(mid_.substr(99990)), std::string::npos);
}

// ---------------------------------------------------------------- read errors

TEST_F(DataPlaneFaultsTest, AReadErrorMidBodyCutsTheConnectionAndOthersAreServed) {
  start(1);  // one loop: the failing response and the later ones share it
  faults_->hide_descriptors(true);
  faults_->only_path("big.bin");
  faults_->fail_reads_after(300000, Status::IoError("injected: bad sector"));
  bool closed = false;
  RawResponse cut = fetch_raw(big_, &closed);
  EXPECT_EQ(cut.status, 200);
  EXPECT_EQ(cut.headers["content-length"], std::to_string(big_.size()));
  EXPECT_FALSE(cut.ok) << "the body must not look complete";
  EXPECT_TRUE(closed);
  EXPECT_EQ(faults_->injected(), 1u);
  EXPECT_NE(host_.log_text().find("injected: bad sector"), std::string::npos);
  // Other files are served meanwhile, on a new connection of the same loop.
  EXPECT_EQ(get(small_).body, small_);
  // And the same file once the storage reads again (its handle may be the cached one).
  faults_->reset_faults();
  faults_->hide_descriptors(true);
  auto r = get(big_);
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(r.body == big_);
}

TEST_F(DataPlaneFaultsTest, AFailingFirstReadClosesWithoutAWrongAnswer) {
  start();
  faults_->hide_descriptors(true);
  faults_->only_path("mid.bin");
  faults_->fail_read_call(1, Status::IoError("injected: unreadable"));
  bool closed = false;
  RawResponse r = fetch_raw(mid_, &closed);
  EXPECT_FALSE(r.ok);
  EXPECT_TRUE(r.status == 0 || r.status >= 500) << r.status;
  EXPECT_TRUE(closed);
  EXPECT_EQ(get(small_).body, small_);
}

// ---------------------------------------------------------------- slow reads

// A storage whose read_at() is slow delays only the response that reads it: another connection,
// even on the same event loop, is accepted and served while the slow body is still on its way.
TEST_F(DataPlaneFaultsTest, SlowReadsDoNotHoldOtherConnectionsUp) {
  start(1);
  faults_->hide_descriptors(true);
  faults_->only_path("big.bin");
  faults_->short_reads(4096);
  faults_->slow_reads(20ms);  // 256 reads of 4 KiB: 5 s for the whole body if nothing changes
  RawClient slow(port_);
  ASSERT_TRUE(slow.send_all(request(big_)));
  ASSERT_TRUE(eventually([&] { return faults_->calls(Call::kReadAt) > 0; }));

  auto r = get(small_);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, small_);
  std::uint64_t read_then = faults_->bytes_read();
  EXPECT_LT(read_then, big_.size()) << "the small file had to wait for the whole slow body";

  faults_->reset_faults();  // the rest of the slow body goes fast (bounded test time)
  faults_->hide_descriptors(true);
  RawResponse whole = slow.read_response(false, 10000);
  ASSERT_TRUE(whole.ok);
  EXPECT_TRUE(whole.body == big_);
}

// ---------------------------------------------------------------- the thread rule

// storage.hpp: the data plane calls open() (and read_at() on handles) from every event-loop
// thread; list() and stat() come from the index's thread, concurrently with them.
TEST_F(DataPlaneFaultsTest, OpenIsCalledFromEveryLoopThread) {
  start(4);
  faults_->hide_descriptors(true);
  for (int i = 0; i < 8; ++i) {  // eight connections, handed round-robin to the four loops
    EXPECT_EQ(get(small_).body, small_);
  }
  EXPECT_GE(faults_->threads(Call::kOpen).size(), 2u);
  EXPECT_GE(faults_->threads(Call::kReadAt).size(), 2u);
  std::set<std::thread::id> loops = faults_->threads(Call::kOpen);
  EXPECT_EQ(loops.count(std::this_thread::get_id()), 0u);

  write_file(dir_.file("root/new.txt"), "new\n");
  rescan();  // the index's thread: list(), and stat() after hashing the new file
  auto listing = faults_->threads(Call::kList);
  ASSERT_EQ(listing.size(), 1u);
  EXPECT_EQ(loops.count(*listing.begin()), 0u) << "list() runs off the event loops";
  EXPECT_EQ(faults_->threads(Call::kStat), listing);
}

// ---------------------------------------------------------------- the wrapper itself

TEST_F(DataPlaneFaultsTest, TheWrapperForwardsAndCountsWhenNoFaultIsSet) {
  auto listed = faults_->list();
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(listed->size(), 3u);
  auto st = faults_->stat("mid.bin");
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->size, mid_.size());
  auto h = faults_->open("mid.bin");
  ASSERT_TRUE(h.ok());
  EXPECT_GE((*h)->fd(), 0);
  std::string buf(10, '\0');
  auto n = (*h)->read_at(5, buf.data(), buf.size());
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(buf, mid_.substr(5, 10));
  EXPECT_EQ(faults_->known_digests("mid.bin").status().code(), Code::kNotSupported);
  EXPECT_EQ(faults_->calls(Call::kList), 1u);
  EXPECT_EQ(faults_->calls(Call::kStat), 1u);
  EXPECT_EQ(faults_->calls(Call::kOpen), 1u);
  EXPECT_EQ(faults_->calls(Call::kReadAt), 1u);
  EXPECT_EQ(faults_->calls(Call::kKnownDigests), 1u);
  EXPECT_EQ(faults_->bytes_read(), 10u);
  EXPECT_EQ(faults_->injected(), 0u);
  faults_->hide_descriptors(true);
  EXPECT_EQ((*h)->fd(), -1);
}

TEST_F(DataPlaneFaultsTest, TheWrapperCutsReadsExactlyAtTheByteLimit) {
  auto h = faults_->open("mid.bin");
  ASSERT_TRUE(h.ok());
  faults_->fail_reads_after(15, Status::IoError("injected"));
  std::string buf(10, '\0');
  EXPECT_EQ((*h)->read_at(0, buf.data(), 10).value(), 10u);
  EXPECT_EQ((*h)->read_at(10, buf.data(), 10).value(), 5u);  // up to the limit
  EXPECT_EQ((*h)->read_at(15, buf.data(), 10).status().code(), Code::kIoError);
  EXPECT_EQ((*h)->read_at(15, buf.data(), 10).status().code(), Code::kIoError);  // and stays so
  faults_->fail_read_call(2, Status::Unavailable("injected"));  // re-armed: counted afresh
  EXPECT_EQ((*h)->read_at(0, buf.data(), 10).value(), 10u);
  EXPECT_EQ((*h)->read_at(0, buf.data(), 10).status().code(), Code::kUnavailable);
  faults_->reset_faults();
  faults_->fail_next(Call::kOpen, 2, Status::IoError("injected"));
  EXPECT_FALSE(faults_->open("mid.bin").ok());
  EXPECT_FALSE(faults_->open("mid.bin").ok());
  EXPECT_TRUE(faults_->open("mid.bin").ok());
  EXPECT_EQ(faults_->injected(), 5u);
}

}  // namespace
}  // namespace dfd::test
