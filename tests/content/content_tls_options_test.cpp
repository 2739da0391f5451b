// Issue 12: the data plane's TLS settings in [content] (parse_content_options) and their
// defaults from [server] (resolve_content_tls), with real PEM files from scripts/pki. Errors
// name file:line:key and never contain key material.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "content/content_service.hpp"
#include "harness.hpp"

namespace dfd::test {
namespace {

class ContentTlsOptions : public ::testing::Test {
 protected:
  void SetUp() override {
    auto r = run({source_dir() + "/scripts/pki", pki_.path(), "server", "other"});
    ASSERT_EQ(r.status, 0) << r.output;
    cert_ = pki_.file("server.pem");
    key_ = pki_.file("server.key");
  }
  // Parses `text` (a whole config file) and resolves [content]'s TLS against `server_*`.
  Result<host::ContentOptions> load(const std::string& text, const std::string& server_cert = "",
                                    const std::string& server_key = "") {
    table_ = toml::parse(std::string_view(text), std::string_view("cfg.toml"));
    const toml::table& content = *table_["content"].as_table();
    auto o = host::parse_content_options(content, "cfg.toml");
    if (!o.ok()) return o.status();
    Status s = host::resolve_content_tls(*o, server_cert, server_key, content, "cfg.toml");
    if (!s.ok()) return s;
    return o;
  }
  std::string files(const std::string& cert, const std::string& key) {
    return "tls_cert = \"" + cert + "\"\ntls_key = \"" + key + "\"\n";
  }

  TempDir pki_;
  toml::table table_;
  std::string cert_, key_;
};

TEST_F(ContentTlsOptions, ContentFilesOrServerDefaultsOrOff) {
  auto o = load("[content]\n");
  ASSERT_TRUE(o.ok()) << o.status().to_string();
  EXPECT_FALSE(o->tls());
  // [content]'s own files.
  o = load("[content]\n" + files(cert_, key_));
  ASSERT_TRUE(o.ok()) << o.status().to_string();
  EXPECT_TRUE(o->tls());
  EXPECT_EQ(o->tls_cert, cert_);
  // [server]'s files are the default.
  o = load("[content]\n", cert_, key_);
  ASSERT_TRUE(o.ok()) << o.status().to_string();
  EXPECT_TRUE(o->tls());
  EXPECT_EQ(o->tls_key, key_);
  // [content]'s files win over [server]'s.
  o = load("[content]\n" + files(pki_.file("other.pem"), pki_.file("other.key")), cert_, key_);
  ASSERT_TRUE(o.ok()) << o.status().to_string();
  EXPECT_EQ(o->tls_cert, pki_.file("other.pem"));
  // tls = false turns it off explicitly.
  o = load("[content]\ntls = false\n", cert_, key_);
  ASSERT_TRUE(o.ok()) << o.status().to_string();
  EXPECT_FALSE(o->tls());
}

TEST_F(ContentTlsOptions, ErrorsNameFileLineAndKey) {
  auto o = load("[content]\nthreads = 1\ntls_cert = \"" + cert_ + "\"\n");
  ASSERT_FALSE(o.ok());
  EXPECT_EQ(o.status().message(), "cfg.toml:3: [content] key 'tls_cert': needs 'tls_key' too");

  o = load("[content]\ntls = true\n");
  ASSERT_FALSE(o.ok());
  EXPECT_EQ(o.status().message().rfind("cfg.toml:2: [content] key 'tls': ", 0), 0u)
      << o.status().message();

  o = load("[content]\ntls = \"yes\"\n");
  ASSERT_FALSE(o.ok());
  EXPECT_NE(o.status().message().find("key 'tls': expected a boolean"), std::string::npos);

  // A key readable by others is refused, naming the key's line.
  ::chmod(key_.c_str(), 0644);
  o = load("[content]\n" + files(cert_, key_));
  ::chmod(key_.c_str(), 0600);
  ASSERT_FALSE(o.ok());
  EXPECT_EQ(o.status().message().rfind("cfg.toml:3: [content] key 'tls_key': '" + key_, 0), 0u)
      << o.status().message();
  EXPECT_NE(o.status().message().find("chmod 600"), std::string::npos);

  // A certificate that is not PEM; a key of another certificate; a missing file.
  write_file(pki_.file("junk.pem"), "not a certificate\n");
  o = load("[content]\n" + files(pki_.file("junk.pem"), key_));
  ASSERT_FALSE(o.ok());
  EXPECT_EQ(o.status().message().rfind("cfg.toml:2: [content] key 'tls_cert': '", 0), 0u)
      << o.status().message();
  o = load("[content]\n" + files(cert_, pki_.file("other.key")));
  ASSERT_FALSE(o.ok());
  EXPECT_NE(
      o.status().message().find("key 'tls_key': '" + pki_.file("other.key") + "' does not match"),
      std::string::npos)
      << o.status().message();
  o = load("[content]\n" + files(pki_.file("absent.pem"), key_));
  ASSERT_FALSE(o.ok());
  EXPECT_NE(o.status().message().find("key 'tls_cert'"), std::string::npos);
  // Never the key's content.
  std::string key_text = read_file(key_);
  std::string body = key_text.substr(key_text.find('\n') + 1, 40);
  EXPECT_EQ(o.status().message().find(body), std::string::npos);
}

}  // namespace
}  // namespace dfd::test
