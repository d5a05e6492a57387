#include "push/hello.h"

#include <simdjson.h>

namespace xgress::agent::push {

std::expected<Hello, std::string> parse_hello(std::string_view json) {
    simdjson::dom::parser parser;
    simdjson::padded_string padded(json);
    simdjson::dom::element root;
    if (auto error = parser.parse(padded).get(root)) {
        return std::unexpected(std::string("Hello: invalid JSON: ") + simdjson::error_message(error));
    }
    Hello hello;
    if (root["pid"].get(hello.pid)) return std::unexpected(std::string("Hello: pid: expected an integer"));
    simdjson::dom::array listeners;
    if (root["listeners"].get(listeners)) return std::unexpected(std::string("Hello: listeners: expected a list"));
    std::size_t index = 0;
    for (simdjson::dom::element item : listeners) {
        const std::string where = "Hello: listeners[" + std::to_string(index++) + "]";
        std::uint64_t slot = 0;
        if (item["slot"].get(slot) || slot > UINT32_MAX) return std::unexpected(where + ".slot: expected a slot number");
        HelloListener listener;
        listener.slot = static_cast<std::uint32_t>(slot);
        std::string_view text;
        if (!item["kind"].get(text)) listener.kind = text;
        if (!item["address"].get(text)) listener.address = text;
        hello.listeners.push_back(std::move(listener));
    }
    return hello;
}

}  // namespace xgress::agent::push
