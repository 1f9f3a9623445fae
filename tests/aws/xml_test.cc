#include "pipeguard/aws/xml.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "test_data.h"

namespace pipeguard::aws {
namespace {

using ::testing::HasSubstr;

TEST(Xml, ReadsAnIamResponseWithNamespaceAndEntities) {
  auto doc = ParseXml(testing::ReadTestData("responses/get-role.xml"));
  ASSERT_TRUE(doc.ok()) << doc.error().ToString();
  EXPECT_EQ(doc->name, "GetRoleResponse");
  ASSERT_EQ(doc->attributes.size(), 1u);
  EXPECT_EQ(doc->attributes[0].first, "xmlns");
  const XmlElement* role = doc->Find({"GetRoleResult", "Role"});
  ASSERT_NE(role, nullptr);
  EXPECT_EQ(role->ChildText("RoleName"), "pg-data-spark-etl");
  EXPECT_EQ(role->ChildText("Description"), "pipeguard: data/spark-etl & friends");
  EXPECT_EQ(role->Child("Tags")->Children("member").size(), 2u);
  EXPECT_EQ(role->ChildText("NoSuchChild"), "");
  EXPECT_EQ(doc->Find({"GetRoleResult", "Missing", "Role"}), nullptr);
}

TEST(Xml, DropsNamespacePrefixesAndDecodesCharacterReferences) {
  auto doc = ParseXml(
      R"(<?xml version="1.0" encoding="UTF-8"?><a:Root xmlns:a="urn:x"><a:V>x&#65;&lt;&#x42;</a:V><![CDATA[<raw>]]></a:Root>)");
  ASSERT_TRUE(doc.ok()) << doc.error().ToString();
  EXPECT_EQ(doc->name, "Root");
  EXPECT_EQ(doc->ChildText("V"), "xA<B");
  EXPECT_EQ(doc->text, "<raw>");
}

struct BadXmlCase {
  const char* name;
  const char* document;
  const char* message;
};

class BadXmlTest : public ::testing::TestWithParam<BadXmlCase> {};

TEST_P(BadXmlTest, IsAClearError) {
  auto doc = ParseXml(GetParam().document);
  ASSERT_FALSE(doc.ok());
  EXPECT_TRUE(doc.error().Is(errc::kBadResponse));
  EXPECT_THAT(doc.error().message, HasSubstr(GetParam().message));
  EXPECT_THAT(doc.error().message, HasSubstr("line"));
}

INSTANTIATE_TEST_SUITE_P(
    Cases, BadXmlTest,
    ::testing::Values(BadXmlCase{"unclosed", "<a><b></a>", "mismatched tag"},
                      BadXmlCase{"empty", "", "no element found"}, BadXmlCase{"text_only", "just text", "syntax error"},
                      BadXmlCase{"two_roots", "<a/><b/>", "junk after document element"},
                      BadXmlCase{"doctype", "<!DOCTYPE a [<!ENTITY x \"y\">]><a>&x;</a>", "DOCTYPE"},
                      BadXmlCase{"billion_laughs",
                                 "<!DOCTYPE l [<!ENTITY a \"aaaa\"><!ENTITY b \"&a;&a;&a;&a;\">]><l>&b;</l>",
                                 "DOCTYPE"},
                      BadXmlCase{"undefined_entity", "<a>&nope;</a>", "undefined entity"},
                      BadXmlCase{"bad_utf8", "<a>\xff</a>", "invalid token"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(Xml, RejectsDeepNesting) {
  std::string doc;
  for (int i = 0; i < 100; ++i) doc += "<a>";
  for (int i = 0; i < 100; ++i) doc += "</a>";
  auto r = ParseXml(doc);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.error().message, HasSubstr("nesting"));
  std::string ok_doc;
  for (int i = 0; i < 64; ++i) ok_doc += "<a>";
  for (int i = 0; i < 64; ++i) ok_doc += "</a>";
  EXPECT_TRUE(ParseXml(ok_doc).ok());
}

}  // namespace
}  // namespace pipeguard::aws
