// The server's client-token file: parsing (comments, bounds, duplicates) and lookups.
#include <gtest/gtest.h>

#include "tquicd/tokens.h"

namespace bond {
namespace {

const std::string kAlice = "a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8";
const std::string kBob = "Zm9vYmFyYmF6cXV4cXV1eGNvcmdlZ3JhdWx0Cg==";

TEST(TokenStore, AuthenticatesExactTokensOnly) {
  auto s = TokenStore::parse("# site tokens\n\nalice " + kAlice + "\r\n  bob\t" + kBob + "  \n");
  ASSERT_TRUE(s) << s.error();
  EXPECT_EQ(s->size(), 2u);
  EXPECT_EQ(s->authenticate(kAlice), "alice");
  EXPECT_EQ(s->authenticate(kBob), "bob");
  EXPECT_FALSE(s->authenticate(""));
  EXPECT_FALSE(s->authenticate(kAlice.substr(0, kAlice.size() - 1)));  // a prefix
  EXPECT_FALSE(s->authenticate(kAlice + "0"));                          // an extension
  std::string flipped = kAlice;
  flipped[10] ^= 1;
  EXPECT_FALSE(s->authenticate(flipped));
  EXPECT_FALSE(s->authenticate(std::string(10'000, 'a')));  // longer than any token
  EXPECT_FALSE(s->authenticate(kAlice + std::string(200, '\0')));
}

TEST(TokenStore, RefusesBadFilesNamingTheLine) {
  const std::pair<std::string, std::string> cases[] = {
      {"alice\n", "line 1: expected 'NAME TOKEN'"},
      {"al/ice " + kAlice + "\n", "line 1: bad client name"},
      {"alice short\n", "line 1: bad token for 'alice'"},
      {"alice " + kAlice + "!\n", "line 1: bad token for 'alice'"},
      {"alice " + std::string(129, 'a') + "\n", "line 1: bad token for 'alice'"},
      {"alice " + kAlice + "\n#\nalice " + kBob + "\n", "line 3: duplicate client name 'alice'"},
      {"alice " + kAlice + "\nbob " + kAlice + "\n", "line 2: token of 'bob' already used by 'alice'"},
      {std::string(33, 'n') + " " + kAlice + "\n", "line 1: bad client name"},
  };
  for (const auto& [text, error] : cases) {
    auto s = TokenStore::parse(text);
    ASSERT_FALSE(s) << text;
    EXPECT_EQ(s.error().rfind(error, 0), 0u) << s.error();
  }
  EXPECT_FALSE(TokenStore::parse(std::string(kMaxTokensFileBytes + 1, '#')));
  std::string many;
  for (size_t i = 0; i <= kMaxTokens; ++i) {
    std::string token = std::to_string(i);
    many += "c" + std::to_string(i) + " " + std::string(kMinTokenLength - token.size(), 'x') + token + "\n";
  }
  auto s = TokenStore::parse(many);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error(), "line 4097: more than 4096 tokens");
  auto empty = TokenStore::parse("# nobody yet\n");
  ASSERT_TRUE(empty);
  EXPECT_FALSE(empty->authenticate(kAlice));
}

// A verified client certificate names its client by its subject's CN, when that is a name the
// tokens file could hold too; anything else is refused, not guessed at.
TEST(ClientCertificate, NameIsTheSubjectsCommonName) {
  EXPECT_EQ(client_name_from_subject("CN=site-a"), "site-a");
  EXPECT_EQ(client_name_from_subject("CN=site-a,O=Example,C=DE"), "site-a");
  EXPECT_EQ(client_name_from_subject("O=Example,CN=branch_7.lte"), "branch_7.lte");
  EXPECT_FALSE(client_name_from_subject(""));
  EXPECT_FALSE(client_name_from_subject("O=Example"));                // no CN
  EXPECT_FALSE(client_name_from_subject("CN=a,CN=b"));                // two CNs
  EXPECT_FALSE(client_name_from_subject("CN="));                      // empty
  EXPECT_FALSE(client_name_from_subject("CN=site a"));                // space
  EXPECT_FALSE(client_name_from_subject("CN=a\\,b"));                 // an escaped comma
  EXPECT_FALSE(client_name_from_subject("CN=" + std::string(65, 'a')));  // too long
  EXPECT_EQ(client_name_from_subject("CN=" + std::string(64, 'a')), std::string(64, 'a'));
  EXPECT_FALSE(client_name_from_subject(std::string("CN=a\0b", 6)));    // a NUL
}

}  // namespace
}  // namespace bond
