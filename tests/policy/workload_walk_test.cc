// The object walk (policy/src/workload.h, ExtractWorkload) in detail, through both DOMs: what it records for env,
// envFrom, configMapKeyRef and volumes, in which order, and which malformed fields it names. The walk reads each
// container's members and env items in one pass; these pin down that the order and paths are those of the
// per-field reading it replaced (ConfigMaps: volumes, then each container's envFrom, then its env, in document
// order; a Spark role's own after its containers').
#include <gtest/gtest.h>
#include <simdjson.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "pipeguard/policy/json_ref.h"
#include "workload.h"

namespace pipeguard::policy {
namespace {

using nlohmann::json;

std::string Describe(const std::optional<Workload>& w) {
  if (!w) return "nullopt";
  std::string out;
  for (const auto& m : w->unreadable) out += "unreadable " + m.path + ": " + m.expected + ", " + m.found + "\n";
  for (const PodUnit& unit : w->units) {
    out += "unit " + unit.base_path + "\n";
    for (const auto& ref : unit.config_maps) out += " cm " + ref.name + " " + ref.path + "\n";
    for (const auto& m : unit.malformed) out += " malformed " + m.path + ": " + m.expected + ", " + m.found + "\n";
    for (const auto& e : unit.scan.entries) {
      out += " entry " + std::string(e.key) + "=" + std::string(e.value) + " " + e.path.str() + " source " +
             std::to_string(static_cast<int>(e.source)) + "\n";
    }
    for (const auto& line : unit.scan.command_lines) {
      out += " line";
      for (size_t i = 0; i < line.argv.size(); ++i) out += " " + std::string(line.argv[i]) + "@" + line.paths[i].str();
      out += "\n";
    }
    for (const auto& image : unit.images) out += " image " + image.image + " " + image.path + "\n";
  }
  return out;
}

// ExtractWorkload of `object` through nlohmann's DOM; the test also checks that simdjson's DOM of the same text
// (as written, and with every object's members reversed) reads alike.
std::string Walk(const json& object) {
  const std::string by_nlohmann = Describe(ExtractWorkload(JsonRef(object), "etl"));
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  EXPECT_EQ(parser.parse(object.dump()).get(root), simdjson::SUCCESS);
  EXPECT_EQ(Describe(ExtractWorkload(JsonRef::FromSimdjson(root), "etl")), by_nlohmann);
  return by_nlohmann;
}

json ConfigMapKeyRef(const std::string& name) { return {{"configMapKeyRef", {{"name", name}, {"key", "k"}}}}; }

TEST(WorkloadWalk, ConfigMapsAreRecordedOnceInDocumentOrderWithTheFieldThatFirstNamesThem) {
  const json pod = {
      {"apiVersion", "v1"},
      {"kind", "Pod"},
      {"metadata", {{"name", "p"}}},
      {"spec",
       {{"volumes", {{{"name", "v"}, {"configMap", {{"name", "a"}}}}}},
        {"initContainers", {{{"name", "init"}, {"env", {{{"name", "I"}, {"valueFrom", ConfigMapKeyRef("g")}}}}}}},
        {"containers",
         {{{"name", "c0"},
           {"envFrom", {{{"configMapRef", {{"name", "b"}}}}, {{"secretRef", {{"name", "s"}}}}}},
           {"env",
            {{{"name", "X"}, {"valueFrom", ConfigMapKeyRef("c")}},
             "not an object",
             {{"name", ""}, {"valueFrom", ConfigMapKeyRef("d")}},  // no entry, but the ConfigMap is read
             {{"valueFrom", ConfigMapKeyRef("a")}},                // named by the volume first
             {{"name", "Y"}, {"value", "v"}, {"valueFrom", ConfigMapKeyRef("e")}},
             {{"name", "N"}, {"valueFrom", {{"configMapKeyRef", nullptr}}}},
             {{"name", "S"}, {"valueFrom", {{"secretKeyRef", {{"name", "s"}}}, {"configMapKeyRef", {{"name", "h"}}}}}},
             {{"name", "F"}, {"valueFrom", {{"fieldRef", {{"fieldPath", "metadata.name"}}}}}},
             {{"name", "M"}, {"valueFrom", "not an object"}}}}},
          {{"name", "c1"},
           {"env",
            {{{"name", "Z"}, {"valueFrom", ConfigMapKeyRef("b")}},
             {{"name", "W"}, {"valueFrom", ConfigMapKeyRef("f")}}}}}}}}}};
  EXPECT_EQ(Walk(pod),
            "unit /spec\n"
            " cm a /spec/volumes/0/configMap/name\n"
            " cm g /spec/initContainers/0/env/0/valueFrom/configMapKeyRef/name\n"
            " cm b /spec/containers/0/envFrom/0/configMapRef/name\n"
            " cm c /spec/containers/0/env/0/valueFrom/configMapKeyRef/name\n"
            " cm d /spec/containers/0/env/2/valueFrom/configMapKeyRef/name\n"
            " cm e /spec/containers/0/env/4/valueFrom/configMapKeyRef/name\n"
            " cm h /spec/containers/0/env/6/valueFrom/configMapKeyRef/name\n"
            " cm f /spec/containers/1/env/1/valueFrom/configMapKeyRef/name\n"
            " malformed /spec/containers/0/env/1: an object, a string\n"
            " malformed /spec/containers/0/env/8/valueFrom: an object, a string\n"
            " entry I= /spec/initContainers/0/env/0/valueFrom source 2\n"
            " entry X= /spec/containers/0/env/0/valueFrom source 2\n"
            " entry Y=v /spec/containers/0/env/4/value source 0\n"
            " entry N= /spec/containers/0/env/5/valueFrom source 2\n"
            " entry S= /spec/containers/0/env/6/valueFrom source 1\n"
            " entry F= /spec/containers/0/env/7/valueFrom source 3\n"
            " entry Z= /spec/containers/1/env/0/valueFrom source 2\n"
            " entry W= /spec/containers/1/env/1/valueFrom source 2\n");
}

TEST(WorkloadWalk, MalformedContainerFieldsAreNamedInFieldOrder) {
  const json pod = {{"apiVersion", "v1"},
                    {"kind", "Pod"},
                    {"metadata", {{"name", "p"}, {"labels", {{"b", 1}, {"a", "x"}, {"c", json::array()}}}}},
                    {"spec",
                     {{"serviceAccountName", 3},
                      {"serviceAccount", json::object()},
                      {"automountServiceAccountToken", "yes"},
                      {"initContainers", "nope"},
                      {"containers",
                       {{{"image", 1},
                         {"env", {{{"name", 2}, {"value", 3}, {"valueFrom", 4}}}},
                         {"command", "sh"},
                         {"args", {"--a", 5, "--b"}},
                         {"envFrom", 6}},
                        7}},
                      {"ephemeralContainers", {{{"image", "i"}, {"command", {"x"}}}}}}}};
  EXPECT_EQ(Walk(pod),
            "unreadable /metadata/labels/b: a string, a number\n"
            "unreadable /metadata/labels/c: a string, a list\n"
            "unit /spec\n"
            " malformed /spec/serviceAccountName: a string, a number\n"
            " malformed /spec/serviceAccount: a string, an object\n"
            " malformed /spec/automountServiceAccountToken: a boolean, a string\n"
            " malformed /spec/initContainers: a list, a string\n"
            " malformed /spec/containers/0/image: a string, a number\n"
            " malformed /spec/containers/0/env/0/name: a string, a number\n"
            " malformed /spec/containers/0/env/0/value: a string, a number\n"
            " malformed /spec/containers/0/env/0/valueFrom: an object, a number\n"
            " malformed /spec/containers/0/command: a list, a string\n"
            " malformed /spec/containers/0/args/1: a string, a number\n"
            " malformed /spec/containers/1: an object, a number\n"
            " line --a@/spec/containers/0/args/0 --b@/spec/containers/0/args/2\n"
            " line x@/spec/ephemeralContainers/0/command/0\n"
            " image i /spec/ephemeralContainers/0/image\n");
}

// The break-glass annotations must be strings: each malformed one is named, in this order, the last of duplicate
// keys being the one judged.
TEST(WorkloadWalk, MalformedBreakGlassAnnotationsAreNamed) {
  const std::string pod = R"({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "annotations": {
      "pipeguard.io/break-glass-expires": 1, "other": 2, "pipeguard.io/break-glass-ticket": "INC-1",
      "pipeguard.io/break-glass-ticket": [], "pipeguard.io/break-glass-rules": "x",
      "pipeguard.io/break-glass-rules": null, "pipeguard.io/break-glass-rulez": 3}}, "spec": {}})";
  EXPECT_EQ(Walk(json::parse(pod)),
            "unit /spec\n"
            " malformed /metadata/annotations/pipeguard.io~1break-glass-ticket: a string, a list\n"
            " malformed /metadata/annotations/pipeguard.io~1break-glass-expires: a string, a number\n");
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  ASSERT_EQ(parser.parse(pod).get(root), simdjson::SUCCESS);  // the duplicates as written
  EXPECT_EQ(Describe(ExtractWorkload(JsonRef::FromSimdjson(root), "etl")), Walk(json::parse(pod)));
}

// A Spark role's own ConfigMaps (configMaps, envFrom, env) come after those of its init containers and sidecars.
TEST(WorkloadWalk, SparkRoleConfigMapsFollowItsContainers) {
  const json app = {
      {"apiVersion", "sparkoperator.k8s.io/v1beta2"},
      {"kind", "SparkApplication"},
      {"metadata", {{"name", "s"}}},
      {"spec",
       {{"sparkConfigMap", "spark-conf"},
        {"driver",
         {{"env", {{{"name", "A"}, {"valueFrom", ConfigMapKeyRef("role")}}}},
          {"envFrom", {{{"configMapRef", {{"name", "from"}}}}}},
          {"configMaps", {{{"name", "mounted"}, {"path", "/etc/x"}}}},
          {"sidecars", {{{"name", "s"}, {"env", {{{"name", "B"}, {"valueFrom", ConfigMapKeyRef("side")}}}}}}}}}}}};
  EXPECT_EQ(Walk(app),
            "unit /spec/driver\n"
            " cm side /spec/driver/sidecars/0/env/0/valueFrom/configMapKeyRef/name\n"
            " cm mounted /spec/driver/configMaps/0/name\n"
            " cm from /spec/driver/envFrom/0/configMapRef/name\n"
            " cm role /spec/driver/env/0/valueFrom/configMapKeyRef/name\n"
            " cm spark-conf /spec/sparkConfigMap\n"
            " entry A= /spec/driver/env/0/valueFrom source 2\n"
            " entry B= /spec/driver/sidecars/0/env/0/valueFrom source 2\n"
            "unit /spec/executor\n");
}

}  // namespace
}  // namespace pipeguard::policy
