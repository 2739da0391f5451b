// Pure logic of the broker plugins: topic matching and AMQP URL handling.
#include <gtest/gtest.h>

#include "amqp_url.hpp"
#include "topic.hpp"

namespace {
using dfd::broker::check_binding_key;
using dfd::broker::topic_matches;
using dfd::broker_rabbitmq::parse_amqp_url;
using dfd::broker_rabbitmq::redact_url;

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
}

TEST(AmqpUrl, BadUrlsAreClearAndRedacted) {
  for (const char* bad : {"http://u:topsecret@h/", "amqp://u:topsecret@h:notaport/",
                          "amqps://u:topsecret@h/", "u:topsecret@h"}) {
    auto t = parse_amqp_url(bad);
    ASSERT_FALSE(t.ok()) << bad;
    EXPECT_EQ(t.status().code(), dfd::Code::kInvalidArgument);
    EXPECT_EQ(t.status().message().find("topsecret"), std::string::npos) << t.status().message();
    EXPECT_NE(t.status().message().find("***"), std::string::npos) << t.status().message();
  }
}

}  // namespace
