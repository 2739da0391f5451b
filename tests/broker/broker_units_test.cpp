// Pure logic of the broker plugins: topic matching and AMQP URL handling.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "amqp_url.hpp"
#include "dfd/wire/topic.hpp"
#include "publish_refusal.hpp"

namespace {
using dfd::broker_rabbitmq::parse_amqp_url;
using dfd::broker_rabbitmq::redact_url;
using dfd::wire::check_binding_key;
using dfd::wire::topic_matches;

TEST(Topic, StarMatchesExactlyOneWord) {
  EXPECT_TRUE(topic_matches("token.*", "token.issued"));
  EXPECT_TRUE(topic_matches("token.*", "token.revoked"));
  EXPECT_FALSE(topic_matches("token.*", "token"));
  EXPECT_FALSE(topic_matches("token.*", "token.a.b"));
  EXPECT_FALSE(topic_matches("token.*", "file.available"));
  EXPECT_TRUE(topic_matches("*.available", "file.available"));
  EXPECT_TRUE(topic_matches("*.*", "a.b"));
  EXPECT_FALSE(topic_matches("*.*", "a"));
}

TEST(Topic, HashMatchesZeroOrMoreWords) {
  EXPECT_TRUE(topic_matches("#", "anything.at.all"));
  EXPECT_TRUE(topic_matches("#", "x"));
  EXPECT_TRUE(topic_matches("file.#", "file"));
  EXPECT_TRUE(topic_matches("file.#", "file.available"));
  EXPECT_TRUE(topic_matches("file.#", "file.a.b.c"));
  EXPECT_FALSE(topic_matches("file.#", "files.a"));
  EXPECT_TRUE(topic_matches("#.heartbeat", "server.heartbeat"));
  EXPECT_TRUE(topic_matches("#.heartbeat", "heartbeat"));
  EXPECT_TRUE(topic_matches("a.#.z", "a.z"));
  EXPECT_TRUE(topic_matches("a.#.z", "a.b.c.z"));
  EXPECT_FALSE(topic_matches("a.#.z", "a.b.c"));
  EXPECT_TRUE(topic_matches("a.#.*.z", "a.b.z"));
  EXPECT_FALSE(topic_matches("a.#.*.z", "a.z"));
  EXPECT_TRUE(topic_matches("#.#", "a"));
}

TEST(Topic, LiteralKeys) {
  EXPECT_TRUE(topic_matches("server.heartbeat", "server.heartbeat"));
  EXPECT_FALSE(topic_matches("server.heartbeat", "server.heartbeats"));
  EXPECT_FALSE(topic_matches("server", "server.heartbeat"));
}

TEST(Topic, BindingKeyChecks) {
  EXPECT_EQ(check_binding_key("token.*"), "");
  EXPECT_NE(check_binding_key(""), "");
  EXPECT_NE(check_binding_key("a..b"), "");
  EXPECT_NE(check_binding_key(std::string(256, 'a')), "");
}

TEST(AmqpUrl, RedactsThePassword) {
  EXPECT_EQ(redact_url("amqp://user:s3cret@host:5672/vh"), "amqp://user:***@host:5672/vh");
  EXPECT_EQ(redact_url("amqp://user:p%40ss@h/"), "amqp://user:***@h/");
  EXPECT_EQ(redact_url("amqp://user@h/"), "amqp://user@h/");
  EXPECT_EQ(redact_url("amqp://h:1/"), "amqp://h:1/");
  EXPECT_EQ(redact_url("garbage:pw@x"), "garbage:***@x");
  // Issue 11 #12: '/', '?', '#', '@' in the password used to end the search for the '@'.
  EXPECT_EQ(redact_url("amqp://guest:p/a?s#s@x@127.0.0.1:5672/"),
            "amqp://guest:***@127.0.0.1:5672/");
  EXPECT_EQ(redact_url("amqp://u:a\nb\x1b@h/"), "amqp://u:***@h/");
  EXPECT_EQ(redact_url("amqp://h/\x1b[2J"), "amqp://h/?[2J");
  EXPECT_EQ(redact_url(std::string(300, 'u')).size(), 259u);
}

// Every message about a URL whose password holds URL delimiters, encoded or not, parseable or
// not: neither the password nor a recognisable piece of it is shown.
TEST(AmqpUrl, PasswordsWithDelimitersNeverAppear) {
  const std::vector<std::string> passwords = {"p/a?s#s@x", "p#ss", "a?b=c", "/lead",  "c:o:l",
                                              "at@at",     "tr/",  "p%2Fa", "sp ace", "%"};
  for (const auto& pw : passwords) {
    for (const std::string& url :
         {"amqp://guest:" + pw + "@127.0.0.1:5672/", "amqp://guest:" + pw + "@127.0.0.1/vh",
          "amqps://guest:" + pw + "@h/", "http://guest:" + pw + "@h/", "guest:" + pw + "@h",
          "amqp://guest:" + pw + "@h:notaport/", "amqp://guest:" + pw + "@"}) {
      EXPECT_EQ(redact_url(url).find(pw), std::string::npos) << url;
      auto t = parse_amqp_url(url);
      const std::string shown = t.ok() ? t->display : t.status().message();
      EXPECT_EQ(shown.find(pw), std::string::npos) << url << " -> " << shown;
      if (pw.size() > 4) {  // no piece between delimiters either ("s#s@x", "a?s")
        EXPECT_EQ(shown.find(pw.substr(1, 4)), std::string::npos) << url << " -> " << shown;
      }
    }
  }
  auto hint = parse_amqp_url("amqp://guest:p/a?s#s@x@127.0.0.1:5672/");
  ASSERT_FALSE(hint.ok());
  EXPECT_NE(hint.status().message().find("percent-encode"), std::string::npos)
      << hint.status().message();
  auto encoded = parse_amqp_url("amqp://guest:p%2Fa%3Fs%23s%40x@127.0.0.1:5672/");
  ASSERT_TRUE(encoded.ok()) << encoded.status().to_string();
  EXPECT_EQ(encoded->password, "p/a?s#s@x");
  EXPECT_TRUE(encoded->password_in_url);
  EXPECT_EQ(encoded->display, "amqp://guest:***@127.0.0.1:5672/");
}

TEST(AmqpUrl, Parses) {
  auto t = parse_amqp_url("amqp://alice:pw@127.0.0.1:5673/prod");
  ASSERT_TRUE(t.ok()) << t.status().to_string();
  EXPECT_EQ(t->host, "127.0.0.1");
  EXPECT_EQ(t->port, 5673);
  EXPECT_EQ(t->vhost, "prod");
  EXPECT_EQ(t->user, "alice");
  EXPECT_EQ(t->password, "pw");
  EXPECT_TRUE(t->password_in_url);
  EXPECT_EQ(t->display, "amqp://alice:***@127.0.0.1:5673/prod");

  auto d = parse_amqp_url("amqp://127.0.0.1/");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->port, 5672);
  EXPECT_EQ(d->vhost, "/");
  EXPECT_EQ(d->user, "guest");
  EXPECT_FALSE(d->password_in_url);

  auto slash = parse_amqp_url("amqp://u:p@h:1/%2f");
  ASSERT_TRUE(slash.ok());
  EXPECT_EQ(slash->vhost, "/");
  EXPECT_FALSE(slash->tls);

  auto tls = parse_amqp_url("amqps://fs-a:pw@127.0.0.1/");
  ASSERT_TRUE(tls.ok()) << tls.status().to_string();
  EXPECT_TRUE(tls->tls);
  EXPECT_EQ(tls->port, 5671);
  EXPECT_EQ(tls->display, "amqps://fs-a:***@127.0.0.1/");
}

TEST(AmqpUrl, BadUrlsAreClearAndRedacted) {
  for (const char* bad : {"http://u:topsecret@h/", "amqp://u:topsecret@h:notaport/",
                          "amqps://u:topsecret@h:x/", "u:topsecret@h"}) {
    auto t = parse_amqp_url(bad);
    ASSERT_FALSE(t.ok()) << bad;
    EXPECT_EQ(t.status().code(), dfd::Code::kInvalidArgument);
    EXPECT_EQ(t.status().message().find("topsecret"), std::string::npos) << t.status().message();
    EXPECT_NE(t.status().message().find("***"), std::string::npos) << t.status().message();
  }
}

TEST(PublishRefusal, NamesTheRefusedTopicOrTheWholeExchange) {
  using dfd::broker_rabbitmq::is_refused;
  using dfd::broker_rabbitmq::parse_publish_refusal;
  auto topic = parse_publish_refusal(
      "ACCESS_REFUSED - access to topic 'token.issued' in exchange 'dfd' in vhost '/' refused "
      "for user 'fs-a'");
  EXPECT_EQ(topic.topic, "token.issued");
  EXPECT_TRUE(is_refused(topic, "token.issued"));
  EXPECT_FALSE(is_refused(topic, "server.heartbeat.fs-a"));
  auto quoted = parse_publish_refusal(
      "ACCESS_REFUSED - write access to topic 'a.it's' in exchange 'dfd' in vhost '/' refused");
  EXPECT_EQ(quoted.topic, "a.it's");
  auto exchange = parse_publish_refusal(
      "ACCESS_REFUSED - access to exchange 'amq.topic' in vhost '/' refused for user 'fs-a'");
  EXPECT_EQ(exchange.topic, "");
  EXPECT_TRUE(is_refused(exchange, "anything"));
  auto odd = parse_publish_refusal(std::string("x\x1b[2J") + std::string(400, 'y'));
  EXPECT_EQ(odd.reason.find('\x1b'), std::string::npos);
  EXPECT_LE(odd.reason.size(), 300u);
  EXPECT_TRUE(is_refused(odd, "anything"));
}

}  // namespace
