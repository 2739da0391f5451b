// `dfd user ...` and `dfd revoke` (issue 13) with the real `dfd` against a real all-in-one
// dfd-host (tests/info/aio_host.hpp: info-sqlite, auth-sqlite, broker-local, storage-fs): an admin
// adds a user, lists, changes its password, disables, enables and revokes it, and the user's own
// `dfd` sees each step (login refused, session ended); a user changes their own password; a
// non-admin is refused clearly; exit codes follow client/src/util.hpp.
#include <signal.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "aio_host.hpp"
#include "harness.hpp"

namespace dfd::test {
namespace {
using ::testing::HasSubstr;
using ::testing::Not;
using json = nlohmann::json;
using namespace std::chrono_literals;

constexpr int kAuth = 3, kUsage = 2, kServer = 4, kNotFound = 5, kThrottled = 13;

// One person's `dfd`: its own config directory (so its own stored login).
class Person {
 public:
  explicit Person(std::string server) : server_(std::move(server)) {}
  // The command line that runs `dfd ARGS` as this person (for a terminal, below).
  std::string shell_command(const std::string& args) const {
    return "env XDG_CONFIG_HOME='" + home_.file("config") + "' HOME='" + home_.path() + "' '" +
           bin("dfd") + "' --server '" + server_ + "' " + args;
  }
  RunResult dfd(std::vector<std::string> args, const std::string& in = "") {
    args.insert(args.begin(), {bin("dfd"), "--server", server_});
    return run(args, in, {{"XDG_CONFIG_HOME", home_.file("config")}, {"HOME", home_.path()}});
  }
  RunResult login(const std::string& email, const std::string& pw) {
    return dfd({"login", "--email", email, "--password-stdin"}, pw + "\n");
  }

 private:
  std::string server_;
  TempDir home_;
};

json json_of(const RunResult& r) {
  return json::parse(r.output.substr(0, r.output.rfind('}') + 1), nullptr, false);
}

class ClientAdminCli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    aio_ = new AioHost("admin test file\n",
                       "audit_log = \"@DIR@audit.log\"\nlogin_max_failures = 3\n");
    // A dfd that exits before reading its stdin must not kill the test with SIGPIPE.
    ::signal(SIGPIPE, SIG_IGN);
  }
  static void TearDownTestSuite() {
    delete aio_;
    aio_ = nullptr;
  }
  void SetUp() override { ASSERT_TRUE(aio_->ready) << aio_->host->log(); }
  static AioHost* aio_;
};
AioHost* ClientAdminCli::aio_ = nullptr;

// The whole life of an account, as an admin and its user see it.
TEST_F(ClientAdminCli, AnAdminManagesAUserFromAddToRevoke) {
  Person admin(aio_->base), bob(aio_->base);
  ASSERT_EQ(admin.login("admin@example.com", "admin-password-1").status, 0);

  // add
  auto r = admin.dfd({"user", "add", "bob@example.com", "--name", "Bob", "--password-stdin"},
                     "bob-password-1\n");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("added bob@example.com (id 2), role user"));
  r = admin.dfd({"user", "add", "bob@example.com", "--password-stdin"}, "another-pass\n");
  EXPECT_EQ(r.status, kServer) << r.output;
  EXPECT_THAT(r.output, HasSubstr("exists"));
  r = admin.dfd({"user", "add", "short@example.com", "--password-stdin"}, "short\n");
  EXPECT_EQ(r.status, kUsage) << r.output;
  r = admin.dfd({"user", "add", "x@example.com", "--role", "root", "--password-stdin"});
  EXPECT_EQ(r.status, kUsage) << r.output;

  // list: a table and JSON
  r = admin.dfd({"user", "list"});
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("ID  EMAIL"));
  EXPECT_THAT(r.output, HasSubstr("STATE"));
  EXPECT_THAT(r.output, HasSubstr("2   bob@example.com    Bob    user   active"));
  r = admin.dfd({"user", "list", "--json"});
  ASSERT_EQ(r.status, 0) << r.output;
  json list = json_of(r);
  ASSERT_TRUE(list.is_object()) << r.output;
  EXPECT_EQ(list["total"], 2);
  EXPECT_EQ(list["users"][1], (json{{"id", 2},
                                    {"email", "bob@example.com"},
                                    {"name", "Bob"},
                                    {"role", "user"},
                                    {"disabled", false}}));

  // the user logs in; a non-admin is refused clearly (exit 3)
  ASSERT_EQ(bob.login("bob@example.com", "bob-password-1").status, 0);
  EXPECT_EQ(bob.dfd({"ls"}).status, 0);
  for (std::vector<std::string> args : {std::vector<std::string>{"user", "list"},
                                        {"revoke", "1"},
                                        {"user", "disable", "1"},
                                        {"user", "passwd", "1", "--password-stdin"}}) {
    r = bob.dfd(args, args[1] == "passwd" ? "taken-over-1\n" : "");
    EXPECT_EQ(r.status, kAuth) << args[0] << " " << args[1] << ": " << r.output;
    EXPECT_THAT(r.output, HasSubstr("only an admin may")) << args[0] << " " << args[1];
  }

  // the admin changes bob's password: bob's session ends, the old password is refused
  r = admin.dfd({"user", "passwd", "bob@example.com", "--password-stdin"}, "bob-password-2\n");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("changed the password of bob@example.com (id 2)"));
  r = bob.dfd({"ls"});
  EXPECT_EQ(r.status, kAuth) << r.output;
  EXPECT_EQ(bob.login("bob@example.com", "bob-password-1").status, kAuth);
  ASSERT_EQ(bob.login("bob@example.com", "bob-password-2").status, 0);

  // bob changes his own: the current one first (a wrong one is refused), the session goes on
  r = bob.dfd({"user", "passwd", "--password-stdin"}, "not-my-password\nbob-password-3\n");
  EXPECT_EQ(r.status, kAuth) << r.output;
  EXPECT_THAT(r.output, HasSubstr("the current password is wrong"));
  r = bob.dfd({"user", "passwd", "--password-stdin"}, "bob-password-2\nbob-password-3\n");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("changed your password"));
  EXPECT_EQ(bob.dfd({"ls"}).status, 0);  // the fresh session was stored
  EXPECT_EQ(bob.login("bob@example.com", "bob-password-2").status, kAuth);
  ASSERT_EQ(bob.login("bob@example.com", "bob-password-3").status, 0);

  // disable: bob's session ends, his login is refused; enable: he logs in again
  r = admin.dfd({"user", "disable", "bob@example.com"});
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("disabled bob@example.com (id 2): every session ended"));
  EXPECT_EQ(bob.dfd({"ls"}).status, kAuth);
  r = bob.login("bob@example.com", "bob-password-3");
  EXPECT_EQ(r.status, kAuth) << r.output;
  EXPECT_THAT(r.output, HasSubstr("disabled"));
  r = admin.dfd({"user", "list"});
  EXPECT_THAT(r.output, HasSubstr("disabled"));
  r = admin.dfd({"user", "enable", "2"});
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("enabled bob@example.com (id 2)"));
  ASSERT_EQ(bob.login("bob@example.com", "bob-password-3").status, 0);

  // revoke: bob fetched one download token; it and his session end
  std::string id;
  for (auto end = std::chrono::steady_clock::now() + 20s;
       id.empty() && std::chrono::steady_clock::now() < end; std::this_thread::sleep_for(100ms)) {
    json files = json_of(bob.dfd({"ls", "--json"}));
    if (files.is_object() && files["total"] == 1)
      id = std::to_string(files["files"][0]["id"].get<int>());
  }
  ASSERT_FALSE(id.empty());
  TempDir out;
  for (auto end = std::chrono::steady_clock::now() + 20s; std::chrono::steady_clock::now() < end;
       std::this_thread::sleep_for(200ms)) {
    r = bob.dfd({"info", id});
    if (r.status == 0) break;  // a manifest: a download token issued to bob
  }
  ASSERT_EQ(r.status, 0) << r.output;
  r = admin.dfd({"revoke", "bob@example.com"});
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_THAT(
      r.output,
      HasSubstr("revoked every session of bob@example.com (id 2); 1 download token revoked"));
  r = bob.dfd({"ls"});
  EXPECT_EQ(r.status, kAuth) << r.output;
  EXPECT_THAT(r.output, HasSubstr("log in again"));
  ASSERT_EQ(bob.login("bob@example.com", "bob-password-3").status, 0);  // not disabled

  // unknown users and bad arguments
  EXPECT_EQ(admin.dfd({"user", "disable", "nobody@example.com"}).status, kNotFound);
  EXPECT_EQ(admin.dfd({"revoke", "999"}).status, kNotFound);
  EXPECT_EQ(admin.dfd({"user", "enable", "bob"}).status, kUsage);
  EXPECT_EQ(admin.dfd({"user"}).status, kUsage);
  r = admin.dfd({"user", "disable", "1"});  // an admin cannot disable themself
  EXPECT_EQ(r.status, kServer) << r.output;
  EXPECT_THAT(r.output, HasSubstr("cannot disable their own account"));

  // The audit log has every change and no password.
  std::string audit = read_file(aio_->dir.file("audit.log"));
  EXPECT_THAT(audit, HasSubstr("\"event\":\"user_created\""));
  EXPECT_THAT(audit, HasSubstr("\"event\":\"user_password_changed\""));
  EXPECT_THAT(audit, HasSubstr("\"event\":\"password_change_failed\""));
  EXPECT_THAT(audit, HasSubstr("\"event\":\"user_disabled\""));
  EXPECT_THAT(audit, HasSubstr("\"event\":\"user_tokens_revoked\""));
  for (const char* pw : {"bob-password-1", "bob-password-2", "bob-password-3", "not-my-password",
                         "admin-password-1", "taken-over-1"}) {
    EXPECT_THAT(audit, Not(HasSubstr(pw)));
    EXPECT_THAT(aio_->host->log(), Not(HasSubstr(pw)));
  }
}

// One command in a real terminal (a private tmux server): what a person sees and types.
class Terminal {
 public:
  explicit Terminal(const std::string& command)
      : socket_("dfd-admin-" + std::to_string(::getpid()) + "-" + std::to_string(++count_)) {
    // The pane stays a while after the command ended, so its last words can be read.
    started_ = run({"tmux", "-L", socket_, "new-session", "-d", "-x", "160", "-y", "40",
                    command + "; echo EXIT=$?; sleep 30"})
                   .status == 0;
  }
  ~Terminal() { run({"tmux", "-L", socket_, "kill-server"}); }
  bool started() const { return started_; }
  std::string screen() { return run({"tmux", "-L", socket_, "capture-pane", "-p"}).output; }
  // Waits until the screen shows `text` (false after 20 s).
  bool wait_for(const std::string& text) {
    for (auto end = std::chrono::steady_clock::now() + 20s; std::chrono::steady_clock::now() < end;
         std::this_thread::sleep_for(50ms)) {
      if (screen().find(text) != std::string::npos) return true;
    }
    return false;
  }
  void type_line(const std::string& line) {
    run({"tmux", "-L", socket_, "send-keys", "-l", line});
    run({"tmux", "-L", socket_, "send-keys", "Enter"});
  }

 private:
  std::string socket_;
  bool started_ = false;
  static inline int count_ = 0;
};

// `dfd ARGS` typed at a terminal as `who`, answering each prompt (in order) with its line: the
// screen once the command ended ("" after a failure when a prompt never came).
std::string at_terminal(const Person& who, const std::string& args,
                        const std::vector<std::pair<std::string, std::string>>& answers) {
  Terminal t(who.shell_command(args));
  EXPECT_TRUE(t.started());
  for (const auto& [prompt, line] : answers) {
    if (!t.wait_for(prompt)) {
      ADD_FAILURE() << "no '" << prompt << "' prompt:\n" << t.screen();
      return "";
    }
    t.type_line(line);
  }
  EXPECT_TRUE(t.wait_for("EXIT=")) << t.screen();
  return t.screen();
}

// On a terminal the new password is asked twice without echo (two different ones change
// nothing); your own password change asks the current one first.
TEST_F(ClientAdminCli, OnATerminalTheNewPasswordIsAskedTwice) {
  Person admin(aio_->base);
  ASSERT_EQ(admin.login("admin@example.com", "admin-password-1").status, 0);
  const std::string add_dan = "user add dan@example.com --name Dan";
  std::string screen = at_terminal(
      admin, add_dan,
      {{"New password:", "dan-password-1"}, {"Repeat the new password:", "dan-password-2"}});
  EXPECT_THAT(screen, HasSubstr("the two passwords differ; nothing was changed"));
  EXPECT_THAT(screen, HasSubstr("EXIT=2"));
  EXPECT_THAT(screen, Not(HasSubstr("dan-password")));  // no echo
  EXPECT_THAT(admin.dfd({"user", "list"}).output, Not(HasSubstr("dan@example.com")));

  screen = at_terminal(
      admin, add_dan,
      {{"New password:", "dan-password-1"}, {"Repeat the new password:", "dan-password-1"}});
  EXPECT_THAT(screen, HasSubstr("added dan@example.com"));
  EXPECT_THAT(screen, HasSubstr("EXIT=0"));
  EXPECT_THAT(screen, Not(HasSubstr("dan-password")));

  Person dan(aio_->base);
  ASSERT_EQ(dan.login("dan@example.com", "dan-password-1").status, 0);
  screen = at_terminal(dan, "user passwd",
                       {{"Current password:", "dan-password-1"},
                        {"New password:", "dan-password-3"},
                        {"Repeat the new password:", "dan-password-3"}});
  EXPECT_THAT(screen, HasSubstr("changed your password; your other sessions ended"));
  EXPECT_THAT(screen, HasSubstr("EXIT=0"));
  EXPECT_THAT(screen, Not(HasSubstr("dan-password")));
  EXPECT_EQ(dan.dfd({"ls"}).status, 0);
  EXPECT_EQ(dan.login("dan@example.com", "dan-password-3").status, 0);
}

// Guessing the current password through `dfd user passwd` counts in the login throttle
// (login_max_failures = 3 here): the fourth try is throttled, exit 13.
TEST_F(ClientAdminCli, GuessingTheCurrentPasswordIsThrottled) {
  Person admin(aio_->base), carol(aio_->base);
  ASSERT_EQ(admin.login("admin@example.com", "admin-password-1").status, 0);
  auto r = admin.dfd({"user", "add", "carol@example.com", "--password-stdin"}, "carol-password\n");
  ASSERT_EQ(r.status, 0) << r.output;
  ASSERT_EQ(carol.login("carol@example.com", "carol-password").status, 0);
  for (int i = 0; i < 3; ++i) {
    r = carol.dfd({"user", "passwd", "--password-stdin"},
                  "guess-" + std::to_string(i) + "\nnew-carol-password\n");
    EXPECT_EQ(r.status, kAuth) << r.output;
  }
  r = carol.dfd({"user", "passwd", "--password-stdin"}, "carol-password\nnew-carol-password\n");
  EXPECT_EQ(r.status, kThrottled) << r.output;
  EXPECT_THAT(r.output, HasSubstr("try again in"));
  EXPECT_EQ(carol.dfd({"ls"}).status, 0);  // the session itself stays
}

}  // namespace
}  // namespace dfd::test
