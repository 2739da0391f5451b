// Unit tests of dfd/wire/bearer.hpp: the one Authorization: Bearer parser (data plane and
// HttpRequest::bearer()); the token-syntax cases moved here from tests/content.
#include <gtest/gtest.h>

#include <string>

#include "dfd/host_services.hpp"
#include "dfd/wire/bearer.hpp"

namespace dfd::wire {
namespace {

using Form = BearerCredentials::Form;

TEST(Bearer, Token) {
  EXPECT_EQ(bearer_token("Bearer abc"), "abc");
  EXPECT_EQ(bearer_token("bearer abc"), "abc");  // the scheme is case-insensitive
  EXPECT_EQ(bearer_token("BEARER abc"), "abc");
  EXPECT_EQ(bearer_token("Bearer   abc"), "abc");                  // 1*SP
  EXPECT_EQ(bearer_token(" \tBearer abc \t"), "abc");              // OWS around the field value
  EXPECT_EQ(bearer_token("Bearer aZ09-._~+/=="), "aZ09-._~+/==");  // every b64token byte
  std::string longest(kMaxBearerTokenBytes, 'a');
  EXPECT_EQ(bearer_token("Bearer " + longest), longest);
}

TEST(Bearer, NoBearerCredentials) {
  for (const char* v : {"", "Bearer", "Bearer   ", "Basic abc", "Bearerabc", "Bearer\tabc",
                        "Bearer\t \tabc", "Bear abc", "Token abc", " abc"}) {
    auto b = parse_bearer(v);
    EXPECT_EQ(b.form, Form::kNone) << "'" << v << "'";
    EXPECT_EQ(b.token, "") << "'" << v << "'";
    EXPECT_EQ(bearer_token(v), "") << "'" << v << "'";
  }
}

TEST(Bearer, MalformedToken) {
  std::string too_long(kMaxBearerTokenBytes + 1, 'a');
  for (std::string v :
       {std::string("Bearer a b"), std::string("bearer \t abc"), std::string("Bearer a\tb"),
        std::string("Bearer ===="), std::string("Bearer a=b"), std::string("Bearer =a"),
        std::string("Bearer \xc3\xa9t\xc3\xa9"), std::string("Bearer a,b"),
        std::string("Bearer a\r\nX: y"), std::string("Bearer realm=\"x\""),
        std::string("Bearer a\0b", 10), "Bearer " + too_long}) {
    auto b = parse_bearer(v);
    EXPECT_EQ(b.form, Form::kMalformed) << "'" << v << "'";
    EXPECT_FALSE(b.token.empty());
    EXPECT_EQ(bearer_token(v), "") << "'" << v << "'";
  }
}

TEST(Bearer, B64Token) {
  EXPECT_TRUE(is_b64token("aZ09-._~+/=="));
  EXPECT_TRUE(is_b64token("a"));
  EXPECT_FALSE(is_b64token(""));
  EXPECT_FALSE(is_b64token("===="));
  EXPECT_FALSE(is_b64token("a=b"));
  EXPECT_FALSE(is_b64token("\xc3\xa9t\xc3\xa9"));
  EXPECT_FALSE(is_b64token(std::string(kMaxBearerTokenBytes + 1, 'a')));
  EXPECT_TRUE(is_b64token(std::string(kMaxBearerTokenBytes, 'a')));
}

TEST(Bearer, IsConstexpr) {
  static_assert(bearer_token("Bearer t0k") == "t0k");
  static_assert(parse_bearer("Bearer a b").form == Form::kMalformed);
  SUCCEED();
}

// HttpRequest::bearer() (what the info API and every plugin route read) is the same rule.
TEST(Bearer, HttpRequestUsesTheRule) {
  HttpRequest q;
  EXPECT_EQ(q.bearer(), "");
  q.headers["authorization"] = "Bearer t0k.en-_~+/=";
  EXPECT_EQ(q.bearer(), "t0k.en-_~+/=");
  q.headers["authorization"] = "bearer t0k";
  EXPECT_EQ(q.bearer(), "t0k");
  for (const char* looser : {"Bearer a b", "Bearer  ", "Bearer t\xc3\xa9", "Basic dXNlcg=="}) {
    q.headers["authorization"] = looser;
    EXPECT_EQ(q.bearer(), "") << looser;
  }
}

}  // namespace
}  // namespace dfd::wire
