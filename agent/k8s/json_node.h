// A read-only view of a simdjson DOM element with the part of yaml-cpp's
// YAML::Node interface the object decoder uses (IsDefined, IsMap, Scalar,
// iteration with .first/.second for maps, ...). It lets one decoder source
// (object_decoder_impl.inc) serve both YAML documents and JSON documents,
// the latter parsed by simdjson, which is ~10x faster than yaml-cpp on
// large `kind: List` files.
#pragma once

#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>

#include <simdjson.h>

namespace xgress::agent::k8s {

class JsonIterator;

class JsonNode {
public:
    JsonNode() = default;  // undefined (a missing key)
    explicit JsonNode(simdjson::dom::element element) : element_(element), state_(State::Element) {}
    static JsonNode text(std::string_view text) {
        JsonNode node;
        node.text_ = text;
        node.state_ = State::Text;
        return node;
    }

    bool IsDefined() const { return state_ != State::Undefined; }
    bool IsNull() const { return state_ == State::Element && element_.is_null(); }
    bool IsMap() const { return state_ == State::Element && element_.is_object(); }
    bool IsSequence() const { return state_ == State::Element && element_.is_array(); }
    bool IsScalar() const {
        return state_ == State::Text ||
               (state_ == State::Element && (element_.is_string() || element_.is_number() || element_.is_bool()));
    }
    // The scalar as YAML would spell it: strings as they are, numbers in
    // decimal, booleans as true/false.
    std::string Scalar() const {
        if (state_ == State::Text) return std::string(text_);
        if (state_ != State::Element) return {};
        std::string_view s;
        if (!element_.get_string().get(s)) return std::string(s);
        bool b = false;
        if (!element_.get_bool().get(b)) return b ? "true" : "false";
        std::int64_t i = 0;
        if (!element_.get_int64().get(i)) return std::to_string(i);
        std::uint64_t u = 0;
        if (!element_.get_uint64().get(u)) return std::to_string(u);
        double d = 0;
        if (!element_.get_double().get(d)) {
            char buffer[32];
            auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, d);
            return ec == std::errc{} ? std::string(buffer, end) : std::string();
        }
        return {};
    }
    // JSON booleans, and the strings "true"/"false" (YAML accepts both spellings too).
    bool as_bool(bool& value) const {
        if (state_ == State::Element && !element_.get_bool().get(value)) return true;
        const std::string text = Scalar();
        if (!IsScalar() || (text != "true" && text != "false")) return false;
        value = text == "true";
        return true;
    }
    std::size_t size() const {
        simdjson::dom::array array;
        return state_ == State::Element && !element_.get_array().get(array) ? array.size() : 0;
    }
    JsonNode operator[](const char* key) const {
        simdjson::dom::object object;
        simdjson::dom::element value;
        if (state_ != State::Element || element_.get_object().get(object) || object.at_key(key).get(value))
            return JsonNode();
        return JsonNode(value);
    }

    // Iteration: over an array, each item (a JsonNode); over an object, each
    // member with .first (the key, as a text node) and .second (the value).
    JsonIterator begin() const;
    JsonIterator end() const;

private:
    friend class JsonIterator;
    enum class State : std::uint8_t { Undefined, Element, Text };
    simdjson::dom::element element_{};
    std::string_view text_;
    State state_ = State::Undefined;
};

struct JsonItem : JsonNode {
    JsonNode first, second;
};

class JsonIterator {
public:
    JsonIterator(const JsonNode& node, bool at_end) {
        simdjson::dom::array array;
        simdjson::dom::object object;
        if (node.state_ != JsonNode::State::Element) return;
        if (!node.element_.get_array().get(array)) {
            array_it_ = at_end ? array.end() : array.begin();
            index_ = at_end ? array.size() : 0;
        } else if (!node.element_.get_object().get(object)) {
            is_array_ = false;
            object_it_ = at_end ? object.end() : object.begin();
            index_ = at_end ? object.size() : 0;
        }
    }
    bool operator!=(const JsonIterator& other) const { return index_ != other.index_; }
    JsonIterator& operator++() {
        ++index_;
        if (is_array_) ++array_it_;
        else ++object_it_;
        return *this;
    }
    JsonItem operator*() const {
        JsonItem item;
        if (is_array_) {
            static_cast<JsonNode&>(item) = JsonNode(*array_it_);
        } else {
            const simdjson::dom::key_value_pair member = *object_it_;
            item.first = JsonNode::text(member.key);
            item.second = JsonNode(member.value);
            static_cast<JsonNode&>(item) = item.second;
        }
        return item;
    }

private:
    bool is_array_ = true;
    std::size_t index_ = 0;
    simdjson::dom::array::iterator array_it_{};
    simdjson::dom::object::iterator object_it_{};
};

inline JsonIterator JsonNode::begin() const { return JsonIterator(*this, false); }
inline JsonIterator JsonNode::end() const { return JsonIterator(*this, true); }

}  // namespace xgress::agent::k8s
