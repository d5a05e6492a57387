// YAML manifests are read through yaml-cpp's event parser into JSON text
// (k8s/yaml_to_json.h) and decoded by simdjson. These tests pin the
// conversion, and check that every YAML text in the repository (examples,
// deploy, CRDs, the YAML in unit tests and lab scripts) and a set of tricky
// documents decode to exactly the objects, errors and skipped lines the
// YAML::Node path gives.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include "k8s/manifests_source.h"
#include "k8s/object_decoder.h"
#include "k8s/yaml_to_json.h"

namespace xgress::agent::k8s {
namespace {

std::vector<std::string> json_documents(std::string_view yaml) {
    YamlAsJson converted = yaml_to_json(yaml);
    EXPECT_FALSE(converted.error) << converted.error->message;
    EXPECT_EQ(converted.unsupported, "");
    std::vector<std::string> out;
    for (const auto& [start, length] : converted.documents) out.push_back(converted.text.substr(start, length));
    return out;
}

std::string unsupported(std::string_view yaml) { return yaml_to_json(yaml).unsupported; }

// Drops " (document N)" from syntax errors: only the event path can name the document.
std::string without_document(std::string line) {
    static const std::regex document(R"( \(document [0-9]+\))");
    return std::regex_replace(line, document, "");
}

// Both paths over one text; the event path must not fall back (unless allowed) and must agree.
void expect_same_decoding(const std::string& text, const std::string& source, bool may_fall_back = false) {
    LoadedManifests events, nodes;
    load_manifest_text(text, source, events);
    // yaml-cpp's LoadAll never returns on these (ParserThatMakesNoProgressIsAnError).
    if (events.errors.size() == 1 && events.errors[0].find("made no progress") != std::string::npos) return;
    load_yaml_with_nodes(text, source, nodes);
    if (!may_fall_back) {
        EXPECT_TRUE(events.yaml_node_fallbacks.empty()) << source << ": " << events.yaml_node_fallbacks[0];
    }
    ASSERT_EQ(events.objects.size(), nodes.objects.size()) << source << "\n" << text;
    for (std::size_t i = 0; i < events.objects.size(); ++i) {
        EXPECT_TRUE(*events.objects[i] == *nodes.objects[i])
            << source << ": object " << i << " " << describe(key_of(*nodes.objects[i])) << " differs";
    }
    ASSERT_EQ(events.errors.size(), nodes.errors.size()) << source << "\n" << text;
    for (std::size_t i = 0; i < events.errors.size(); ++i) EXPECT_EQ(without_document(events.errors[i]), nodes.errors[i]);
    EXPECT_EQ(events.skipped, nodes.skipped) << source;
    EXPECT_EQ(events.files_with_errors, nodes.files_with_errors) << source;
}

TEST(YamlToJson, ScalarsKeepTheirTextNullsBecomeNull) {
    const auto docs = json_documents(
        "a: 0x50\nb: \"80\"\nc: 007\nd: ~\ne:\nf: null\ng: 'null'\nh: Null\ni: true\nj: 1.5e3\nk: !!str 12\n"
        "l: \"tab\\there \\\"q\\\" back\\\\slash\"\nm: |\n  two\n  lines\n");
    ASSERT_EQ(docs.size(), 1u);
    EXPECT_EQ(docs[0],
              R"({"a":"0x50","b":"80","c":"007","d":null,"e":null,"f":null,"g":"null","h":null,"i":"true",)"
              R"("j":"1.5e3","k":"12","l":"tab\u0009here \"q\" back\\slash","m":"two\u000alines\u000a"})");
}

TEST(YamlToJson, SequencesFlowStyleAndNesting) {
    const auto docs = json_documents("x: [1, [2, {y: z}], {}]\ny:\n  - a\n  -\n  - - b\n");
    ASSERT_EQ(docs.size(), 1u);
    EXPECT_EQ(docs[0], R"({"x":["1",["2",{"y":"z"}],{}],"y":["a",null,["b"]]})");
}

TEST(YamlToJson, DocumentsAreSeparateAndEmptyOnesAreNull) {
    const auto docs = json_documents("a: 1\n---\n---\nb: 2\n...\n---\n- c\n");
    ASSERT_EQ(docs.size(), 4u);
    EXPECT_EQ(docs[0], R"({"a":"1"})");
    EXPECT_EQ(docs[1], "null");
    EXPECT_EQ(docs[2], R"({"b":"2"})");
    EXPECT_EQ(docs[3], R"(["c"])");
    EXPECT_TRUE(json_documents("").empty());
}

TEST(YamlToJson, AliasesReplayTheAnchoredNode) {
    const auto docs = json_documents(
        "base: &b {port: 80, name: &n http}\ncopy: *b\nlist: [*n, *b]\n*n : key-from-alias\n<<: *b\n");
    ASSERT_EQ(docs.size(), 1u);
    EXPECT_EQ(docs[0], R"({"base":{"port":"80","name":"http"},"copy":{"port":"80","name":"http"},)"
                       R"("list":["http",{"port":"80","name":"http"}],"http":"key-from-alias",)"
                       R"("<<":{"port":"80","name":"http"}})");
    // Anchors are per document.
    EXPECT_TRUE(yaml_to_json("a: &x 1\n---\nb: *x\n").error.has_value());
}

TEST(YamlToJson, WhatJsonCannotSayIsUnsupported) {
    EXPECT_NE(unsupported("~: a\n"), "");
    EXPECT_NE(unsupported("? [a, b]\n: c\n"), "");
    EXPECT_NE(unsupported("? {a: b}\n: c\n"), "");
    EXPECT_NE(unsupported("a: &m {b: c}\n*m : d\n"), "");
    EXPECT_NE(unsupported("a: &r [1, *r]\n"), "");
    EXPECT_NE(unsupported(std::string("a: \xff\xfe\n")), "");
    // yaml-cpp itself refuses lone surrogates and deep nesting (before
    // simdjson's depth limit): syntax errors on both paths.
    EXPECT_TRUE(yaml_to_json("a: \"\\uD800\"\n").error.has_value());
    EXPECT_TRUE(yaml_to_json(std::string(1100, '[') + std::string(1100, ']')).error.has_value());
    // Ten levels of ten aliases each: 10^10 copies.
    std::string laughs = "l0: &l0 [lol]\n";
    for (int i = 1; i <= 10; ++i) {
        laughs += "l" + std::to_string(i) + ": &l" + std::to_string(i) + " [";
        for (int j = 0; j < 10; ++j) laughs += (j ? ", *l" : "*l") + std::to_string(i - 1);
        laughs += "]\n";
    }
    EXPECT_NE(unsupported(laughs).find("aliases expand beyond"), std::string::npos) << unsupported(laughs);
}

TEST(YamlToJson, SyntaxErrorsNameDocumentLineAndColumn) {
    const YamlAsJson converted = yaml_to_json("a: 1\n---\nb: 2\n---\nkind: Service\nmetadata: {name: [unclosed\n");
    ASSERT_TRUE(converted.error.has_value());
    EXPECT_EQ(converted.error->document, 3u);
    EXPECT_EQ(converted.error->line, 7u);
    EXPECT_NE(converted.error->message, "");

    LoadedManifests out;
    load_manifest_text("a: 1\n---\nb: [\n", "bad.yaml", out);
    ASSERT_EQ(out.errors.size(), 1u);
    EXPECT_TRUE(out.objects.empty());
    EXPECT_NE(out.errors[0].find("bad.yaml: line "), std::string::npos) << out.errors[0];
    EXPECT_NE(out.errors[0].find("(document 2): "), std::string::npos) << out.errors[0];
    EXPECT_NE(out.errors[0].find("(file skipped)"), std::string::npos) << out.errors[0];
}

// yaml-cpp 0.7 hands out the same document forever for a text starting
// with ',' (found by the fuzzer): YAML::LoadAll never returned and grew
// without bound, taking the agent down. Reported as a syntax error now, on
// the event path and for files that would fall back to the node path.
TEST(YamlToJson, ParserThatMakesNoProgressIsAnError) {
    for (const char* text : {",", ", The node\n", "a: 1\n---\n,\n", "a: {~: b}\n---\n,\n"}) {
        const YamlAsJson converted = yaml_to_json(text);
        ASSERT_TRUE(converted.error.has_value()) << text;
        EXPECT_NE(converted.error->message.find("no progress"), std::string::npos) << text;
        EXPECT_EQ(converted.unsupported, "") << text;
        LoadedManifests out;
        load_manifest_text(text, "comma.yaml", out);
        ASSERT_EQ(out.errors.size(), 1u) << text;
        EXPECT_NE(out.errors[0].find("comma.yaml: line "), std::string::npos) << out.errors[0];
        EXPECT_TRUE(out.yaml_node_fallbacks.empty());
    }
    // A file that falls back is scanned to its end first: syntax errors after
    // the unsupported document are reported, not handed to the node path.
    LoadedManifests out;
    load_manifest_text("a: {~: b}\n---\nb: [\n", "late.yaml", out);
    EXPECT_TRUE(out.yaml_node_fallbacks.empty());
    ASSERT_EQ(out.errors.size(), 1u);
    EXPECT_NE(out.errors[0].find("(document 2)"), std::string::npos) << out.errors[0];
}

TEST(YamlToJson, BooleansFollowYamlCpp) {
    for (const char* word : {"y", "Y", "yes", "Yes", "YES", "yEs", "true", "True", "TRUE", "tRUE", "TrUe", "on", "On",
                             "ON", "oN", "n", "N", "no", "No", "NO", "false", "False", "FALSE", "fAlse", "off", "Off",
                             "OFF", "oFF", "1", "0", "", "t", "f", "ye", "yess", "truee", "nil", "~", "null"}) {
        bool expected = false, actual = false;
        const bool expected_ok = YAML::convert<bool>::decode(YAML::Node(word), expected);
        const bool actual_ok = parse_yaml_bool(word, actual);
        EXPECT_EQ(actual_ok, expected_ok) << word;
        if (expected_ok && actual_ok) {
            EXPECT_EQ(actual, expected) << word;
        }
    }
}

// Documents chosen to exercise the places where YAML's typing could leak
// into the decoder: numbers written in other bases, quoted numbers, booleans
// in YAML 1.1 spellings, nulls, anchors, tags, Lists, bad fields.
TEST(YamlToJson, TrickyDocumentsDecodeAsWithNodes) {
    const std::vector<std::string> texts = {
        "kind: Service\napiVersion: v1\nmetadata: {name: 0x1F, namespace: \"007\", labels: {a: 1, b: yes, c: ~}}\n"
        "spec:\n  type: NodePort\n  ports:\n  - {port: 0x50, name: http}\n  - {port: \"81\", targetPort: web, nodePort: 030081}\n",
        "kind: Service\nmetadata: {name: s}\nspec:\n  ports:\n  - port: 80\n    targetPort: 8080\n"
        "  allocateLoadBalancerNodePorts: 'no'\n  sessionAffinity: ClientIP\n"
        "  sessionAffinityConfig: {clientIP: {timeoutSeconds: +30}}\n",
        "kind: EndpointSlice\nmetadata:\n  name: e\n  labels: {kubernetes.io/service-name: s}\naddressType: IPv4\n"
        "ports: [{name: http, port: 8080}]\nendpoints:\n"
        "- addresses: [10.0.0.1]\n  conditions: {ready: Yes, serving: ON, terminating: n}\n  nodeName: node-1\n"
        "- addresses: [\"10.0.0.2\"]\n  conditions: {ready: \"false\", serving: True, terminating: ~}\n"
        "- addresses: [10.0.0.3]\n  conditions: {ready: 1}\n"
        "- addresses: []\n",
        "common: &backend {service: {name: web, port: {number: 80}}}\n---\n"
        "kind: Ingress\napiVersion: networking.k8s.io/v1\nmetadata: {name: i, namespace: demo}\n"
        "spec:\n  defaultBackend: &b {service: {name: web, port: {name: http}}}\n  rules:\n"
        "  - host: shop.example.com\n    http:\n      paths:\n      - {path: /a, pathType: Prefix, backend: *b}\n"
        "      - {path: /b, pathType: Exact, backend: {service: {name: web, port: {number: 0o120}}}}\n"
        "  - host: '*.example.com'\n    http: {paths: [{path: /, pathType: Foo, backend: *b}]}\n",
        "kind: List\nitems:\n- kind: IngressClass\n  metadata: {name: a}\n  spec: {controller: xgress.io/ingress-controller}\n"
        "- kind: ConfigMap\n  metadata: {name: cm}\n- !!map {kind: IngressClass, metadata: {name: !!str b}, spec: {controller: x}}\n"
        "- [not, a, map]\n- kind: IngressClass\n  metadata: {name: c}\n",
        "kind: List\nitems: {a: b}\n---\nkind: List\nitems:\n---\nkind: List\n---\n- 1\n---\nplain scalar\n---\n~\n",
        "kind: IngressClassParameters\napiVersion: xgress.io/v1alpha1\nmetadata: {name: p}\nspec:\n"
        "  listeners: [{name: a, port: 8443, protocol: HTTPS, addresses: [192.0.2.1]}]\n"
        "  timeouts: {connect: 5s, read: 1m}\n  maxBodySize: 8m\n  nodePortRange: {min: 30000, max: 32767, unallocated: Pass}\n",
        "kind: Secret\ntype: kubernetes.io/tls\nmetadata: {name: t}\ndata: {tls.crt: bm90IGEgY2VydA==, tls.key: eA==}\n",
        "kind: Service\nmetadata: {name: dup}\nmetadata: {name: second}\nspec: {ports: [{port: 1}], ports: []}\n",
        "kind: Service\nmetadata: {name: \"caf\xc3\xa9\", annotations: {note: \"line\\nbreak \\u00e9 \\t\"}}\n"
        "spec: {ports: [{port: 80, protocol: \"UDP\"}], externalIPs: [\"1.2.3.4\", 5.6.7.8]}\n",
        "kind: Service\nmetadata: {name: bad}\nspec: {ports: [{port: {a: b}}], externalTrafficPolicy: local}\n",
        "%YAML 1.2\n---\nkind: IngressClass\nmetadata: {name: directive}\nspec: {controller: x}\n",
        "kind: Service\nmetadata: {name: [unclosed\n",
        "kind: Service\nmetadata:\n  name: a\n bad-indent: b\n",
    };
    for (std::size_t i = 0; i < texts.size(); ++i) expect_same_decoding(texts[i], "tricky-" + std::to_string(i) + ".yaml");
}

TEST(YamlToJson, FallbackFilesDecodeWithNodes) {
    LoadedManifests out;
    load_manifest_text("kind: IngressClass\nmetadata:\n  name: a\n  labels: {~: x}\nspec: {controller: x}\n", "f.yaml", out);
    ASSERT_EQ(out.yaml_node_fallbacks.size(), 1u);
    EXPECT_NE(out.yaml_node_fallbacks[0].find("f.yaml: document 1: a map key that is not a string"), std::string::npos)
        << out.yaml_node_fallbacks[0];
    ASSERT_EQ(out.errors.size(), 1u);  // the null label key, reported as before
    EXPECT_NE(out.errors[0].find("metadata.labels: expected a map of strings"), std::string::npos) << out.errors[0];
    expect_same_decoding("kind: IngressClass\nmetadata: {name: r, labels: &l {a: [*l]}}\nspec: {controller: x}\n",
                         "recursive.yaml", true);
}

// A directory of many files is read and converted on worker threads and
// decoded in file order: the result must equal decoding each file in turn.
TEST(YamlToJson, ManyFilesLoadInOrderAsOneByOne) {
    namespace fs = std::filesystem;
    std::string pattern = (fs::temp_directory_path() / "xgress-yaml-json-XXXXXX").string();
    const fs::path dir = ::mkdtemp(pattern.data());
    std::vector<std::pair<std::string, std::string>> files;
    for (int i = 0; i < 150; ++i) {
        char name[32];
        std::snprintf(name, sizeof name, "f%03d.%s", i, i % 7 == 3 ? "json" : "yaml");
        const std::string n = std::to_string(i);
        std::string text;
        if (i % 7 == 3) {
            text = R"({"kind": "IngressClass", "metadata": {"name": "j)" + n + R"("}, "spec": {"controller": "x"}})";
        } else if (i % 11 == 5) {
            text = "kind: Service\nmetadata: {name: [broken" + n + "\n";
        } else if (i % 13 == 6) {
            text = "kind: IngressClass\nmetadata: {name: fb" + n + ", labels: {~: x}}\nspec: {controller: x}\n";
        } else {
            text = "kind: Service\nmetadata: {name: s" + n + ", namespace: demo}\nspec:\n  ports: [{port: " +
                   std::to_string(1 + i) + "}]\n---\nkind: EndpointSlice\nmetadata:\n  name: s" + n +
                   "\n  namespace: demo\n  labels: {kubernetes.io/service-name: s" + n +
                   "}\nendpoints:\n- addresses: [10.0.0." + std::to_string(i % 250) + "]\n  conditions: {ready: yes}\n";
        }
        std::ofstream(dir / name) << text;
        files.emplace_back((dir / name).string(), text);
    }
    auto loaded = load_manifests_directory(dir);
    LoadedManifests expected;
    for (const auto& [name, text] : files) {
        expected.files.push_back(name);
        load_manifest_text(text, name, expected);
    }
    fs::remove_all(dir);
    ASSERT_TRUE(loaded.has_value());
    EXPECT_EQ(loaded->files, expected.files);
    EXPECT_EQ(loaded->errors, expected.errors);
    EXPECT_EQ(loaded->error_sources, expected.error_sources);
    EXPECT_EQ(loaded->yaml_node_fallbacks, expected.yaml_node_fallbacks);
    EXPECT_FALSE(expected.yaml_node_fallbacks.empty());
    ASSERT_EQ(loaded->objects.size(), expected.objects.size());
    for (std::size_t i = 0; i < expected.objects.size(); ++i) {
        EXPECT_TRUE(*loaded->objects[i] == *expected.objects[i]) << i;
        EXPECT_EQ(loaded->object_source(i), expected.object_source(i)) << i;
    }
}

// Every YAML text in the repository, decoded both ways.
std::vector<std::pair<std::string, std::string>> repository_yaml() {
    namespace fs = std::filesystem;
    const fs::path root = XGRESS_SOURCE_DIR;
    std::vector<std::pair<std::string, std::string>> texts;
    auto read = [](const fs::path& path) {
        std::ifstream file(path, std::ios::binary);
        std::ostringstream text;
        text << file.rdbuf();
        return text.str();
    };
    static const std::regex raw_string(R"RE(R"(\w*)\(([\s\S]*?)\)\1")RE");
    static const std::regex heredoc(R"RE(<<-?\s*'?(\w+)'?[^\n]*\n([\s\S]*?)\n\s*\1\n)RE");
    for (const char* folder : {"examples", "deploy", "crds", "test", "tools", "agent"}) {
        if (!fs::exists(root / folder)) continue;
        for (const auto& entry : fs::recursive_directory_iterator(root / folder)) {
            if (!entry.is_regular_file()) continue;
            const fs::path& path = entry.path();
            const std::string ext = path.extension().string();
            const std::string name = fs::relative(path, root).string();
            if (ext == ".yaml" || ext == ".yml") {
                texts.emplace_back(name, read(path));
                continue;
            }
            const std::regex* pattern = ext == ".cpp" ? &raw_string : ext == ".sh" ? &heredoc : nullptr;
            if (!pattern) continue;
            const std::string source = read(path);
            std::size_t n = 0;
            for (std::sregex_iterator it(source.begin(), source.end(), *pattern), end; it != end; ++it) {
                const std::string body = (*it)[2];
                const auto first = body.find_first_not_of(" \t\r\n");
                if (body.find("kind:") == std::string::npos || first == std::string::npos || body[first] == '{' ||
                    body[first] == '[')
                    continue;  // not YAML manifests (JSON goes to simdjson directly)
                texts.emplace_back(name + "#" + std::to_string(++n) + ".yaml", body);
            }
        }
    }
    return texts;
}

TEST(YamlToJson, EveryRepositoryYamlDecodesAsWithNodes) {
    const auto texts = repository_yaml();
    // examples/, deploy/, crds/ and the YAML inside the agent's unit tests and lab scripts.
    EXPECT_GT(texts.size(), 60u);
    std::size_t objects = 0;
    for (const auto& [name, text] : texts) {
        expect_same_decoding(text, name);
        LoadedManifests out;
        load_manifest_text(text, name, out);
        objects += out.objects.size();
    }
    EXPECT_GT(objects, 100u);
    std::printf("compared %zu YAML texts, %zu objects\n", texts.size(), objects);
}

}  // namespace
}  // namespace xgress::agent::k8s
