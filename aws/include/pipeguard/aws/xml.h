// A small read-only XML tree for AWS Query API responses, built with expat.
//
// Strict: malformed XML, a DOCTYPE (so no entity declarations and no entity expansion), more than 64 levels of
// nesting or an input over 8 MiB are errors. Namespace prefixes are dropped from element names ("ns:Role" ->
// "Role"); attributes are kept as written. Text is the concatenated character data directly inside an element,
// with entities and character references decoded, untrimmed.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pipeguard/aws/error.h"

namespace pipeguard::aws {

struct XmlElement {
  std::string name;
  std::vector<std::pair<std::string, std::string>> attributes;
  std::string text;
  std::vector<XmlElement> children;

  // The first child element named `name`, or nullptr.
  const XmlElement* Child(std::string_view name) const;
  // Follows a path of child names from this element; nullptr when any step is missing.
  const XmlElement* Find(std::initializer_list<std::string_view> path) const;
  // The text of the first child named `name`, or "" when there is none.
  std::string ChildText(std::string_view name) const;
  // All children named `name`, in document order.
  std::vector<const XmlElement*> Children(std::string_view name) const;
};

// Parses a whole document and returns its root element. Errors (code errc::kBadResponse) give the line and column.
AwsResult<XmlElement> ParseXml(std::string_view document);

}  // namespace pipeguard::aws
