#include "k8s/yaml_to_json.h"

#include <spanstream>

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/exceptions.h>
#include <yaml-cpp/mark.h>
#include <yaml-cpp/parser.h>

#include "k8s/yaml_json_writer.h"

namespace xgress::agent::k8s {
namespace {

// yaml-cpp's events into the shared writer; yaml-cpp numbers anchors itself.
class YamlCppEvents final : public YAML::EventHandler {
public:
    YamlCppEvents(std::string& out, std::size_t limit) : writer_(out, limit) {}

    const std::string& unsupported() const { return writer_.unsupported(); }
    const YAML::Mark& document_start() const { return document_start_; }

    void OnDocumentStart(const YAML::Mark& mark) override {
        document_start_ = mark;
        writer_.start_document();
    }
    void OnDocumentEnd() override {}
    void OnNull(const YAML::Mark&, YAML::anchor_t anchor) override { writer_.null(anchor); }
    void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t anchor, const std::string& value) override {
        writer_.scalar(value, anchor);
    }
    void OnAlias(const YAML::Mark&, YAML::anchor_t anchor) override { writer_.alias(anchor); }
    void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t anchor,
                         YAML::EmitterStyle::value) override {
        writer_.open(false, anchor);
    }
    void OnSequenceEnd() override { writer_.close(); }
    void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t anchor, YAML::EmitterStyle::value) override {
        writer_.open(true, anchor);
    }
    void OnMapEnd() override { writer_.close(); }

private:
    YamlJsonWriter writer_;
    YAML::Mark document_start_ = YAML::Mark::null_mark();
};

}  // namespace

YamlAsJson yaml_to_json_with_yaml_cpp(std::string_view yaml) {
    YamlAsJson result;
    result.read_by_yaml_cpp = true;
    const std::size_t limit = alias_expansion_limit(yaml.size());
    result.text.reserve(yaml.size() + yaml.size() / 4 + 64);
    std::ispanstream stream(std::span<const char>(yaml.data(), yaml.size()));
    std::size_t document = 0;
    int previous_start = -1;
    std::string discarded;  // documents after an unsupported one: scanned, not kept
    try {
        YAML::Parser parser(stream);
        for (;;) {
            ++document;
            std::string& out = result.unsupported.empty() ? result.text : discarded;
            discarded.clear();
            YamlCppEvents events(out, limit);
            const std::size_t start = out.size();
            if (!parser.HandleNextDocument(events)) break;
            // yaml-cpp 0.7 can return the same document forever on some
            // malformed input (found by the fuzzer; YAML::LoadAll then grows
            // without bound): a document must start past the previous one.
            if (events.document_start().pos <= previous_start) {
                const YAML::Mark& at = events.document_start();
                result.error = YamlSyntaxError{document, static_cast<std::size_t>(at.line + 1),
                                               static_cast<std::size_t>(at.column + 1),
                                               "the YAML parser made no progress (malformed input)"};
                result.unsupported.clear();
                return result;
            }
            previous_start = events.document_start().pos;
            if (!result.unsupported.empty()) continue;
            if (!events.unsupported().empty()) {
                // The caller reads this file with yaml-cpp nodes; scanning
                // on to the end first proves that read ends (see above) and
                // finds syntax errors the same way.
                result.unsupported = "document " + std::to_string(document) + ": " + events.unsupported();
                continue;
            }
            if (result.text.size() == start) result.text += "null";
            result.documents.emplace_back(start, result.text.size() - start);
        }
    } catch (const YAML::Exception& e) {
        // yaml-cpp counts from 0; editors count from 1.
        result.error = YamlSyntaxError{document, static_cast<std::size_t>(e.mark.line + 1),
                                       static_cast<std::size_t>(e.mark.column + 1), e.msg};
    }
    return result;
}

YamlAsJson yaml_to_json(std::string_view yaml) {
    if (auto fast = yaml_to_json_with_libfyaml(yaml)) return std::move(*fast);
    return yaml_to_json_with_yaml_cpp(yaml);
}

}  // namespace xgress::agent::k8s
