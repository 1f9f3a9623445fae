#include "pipeguard/aws/xml.h"

#include <expat.h>

#include <memory>

namespace pipeguard::aws {
namespace {

constexpr std::size_t kMaxDocumentBytes = 8u << 20;
constexpr std::size_t kMaxDepth = 64;

std::string_view LocalName(std::string_view qname) {
  auto colon = qname.find(':');
  return colon == std::string_view::npos ? qname : qname.substr(colon + 1);
}

// Builds the tree from expat's callbacks; the first problem stops the parser and is kept in `error`.
struct Builder {
  XML_Parser parser = nullptr;
  XmlElement root;
  bool have_root = false;
  std::vector<XmlElement*> stack;
  std::string error;

  void Stop(std::string why) {
    if (error.empty()) error = std::move(why);
    XML_StopParser(parser, XML_FALSE);
  }

  static void OnStart(void* data, const XML_Char* name, const XML_Char** attrs) {
    auto* b = static_cast<Builder*>(data);
    if (b->stack.size() >= kMaxDepth) return b->Stop("nesting deeper than 64 elements");
    XmlElement* e;
    if (b->stack.empty()) {
      if (b->have_root) return b->Stop("more than one root element");
      b->have_root = true;
      e = &b->root;
    } else {
      e = &b->stack.back()->children.emplace_back();
    }
    e->name = std::string(LocalName(name));
    for (int i = 0; attrs[i] != nullptr; i += 2) e->attributes.emplace_back(attrs[i], attrs[i + 1]);
    b->stack.push_back(e);
  }
  static void OnEnd(void* data, const XML_Char*) { static_cast<Builder*>(data)->stack.pop_back(); }
  static void OnText(void* data, const XML_Char* s, int len) {
    auto* b = static_cast<Builder*>(data);
    if (!b->stack.empty()) b->stack.back()->text.append(s, static_cast<std::size_t>(len));
  }
  static void OnDoctype(void* data, const XML_Char*, const XML_Char*, const XML_Char*, int) {
    static_cast<Builder*>(data)->Stop("a DOCTYPE is not allowed");
  }
  static void OnEntityDecl(void* data, const XML_Char*, int, const XML_Char*, int, const XML_Char*, const XML_Char*,
                           const XML_Char*, const XML_Char*) {
    static_cast<Builder*>(data)->Stop("entity declarations are not allowed");
  }
};

AwsError XmlError(std::string message) {
  return LocalError(errc::kBadResponse, StatusCode::kInternal, "XML response: " + std::move(message));
}

}  // namespace

const XmlElement* XmlElement::Child(std::string_view child_name) const {
  for (const auto& c : children) {
    if (c.name == child_name) return &c;
  }
  return nullptr;
}

const XmlElement* XmlElement::Find(std::initializer_list<std::string_view> path) const {
  const XmlElement* e = this;
  for (auto step : path) {
    e = e->Child(step);
    if (e == nullptr) return nullptr;
  }
  return e;
}

std::string XmlElement::ChildText(std::string_view child_name) const {
  const XmlElement* c = Child(child_name);
  return c ? c->text : std::string();
}

std::vector<const XmlElement*> XmlElement::Children(std::string_view child_name) const {
  std::vector<const XmlElement*> out;
  for (const auto& c : children) {
    if (c.name == child_name) out.push_back(&c);
  }
  return out;
}

AwsResult<XmlElement> ParseXml(std::string_view document) {
  if (document.size() > kMaxDocumentBytes) return XmlError("larger than 8 MiB");
  std::unique_ptr<XML_ParserStruct, decltype(&XML_ParserFree)> parser(XML_ParserCreate("UTF-8"), &XML_ParserFree);
  if (!parser) return XmlError("out of memory creating the parser");
  Builder b;
  b.parser = parser.get();
  XML_SetUserData(parser.get(), &b);
  XML_SetElementHandler(parser.get(), &Builder::OnStart, &Builder::OnEnd);
  XML_SetCharacterDataHandler(parser.get(), &Builder::OnText);
  XML_SetStartDoctypeDeclHandler(parser.get(), &Builder::OnDoctype);
  XML_SetEntityDeclHandler(parser.get(), &Builder::OnEntityDecl);
  XML_SetParamEntityParsing(parser.get(), XML_PARAM_ENTITY_PARSING_NEVER);
  XML_Status status = XML_Parse(parser.get(), document.data(), static_cast<int>(document.size()), XML_TRUE);
  if (!b.error.empty() || status != XML_STATUS_OK) {
    std::string why = b.error.empty() ? XML_ErrorString(XML_GetErrorCode(parser.get())) : b.error;
    return XmlError(why + " at line " + std::to_string(XML_GetCurrentLineNumber(parser.get())) + ", column " +
                    std::to_string(XML_GetCurrentColumnNumber(parser.get()) + 1));
  }
  if (!b.have_root) return XmlError("no root element");
  return std::move(b.root);
}

}  // namespace pipeguard::aws
