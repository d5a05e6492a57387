// InternedString: a string stored once per process and referred to by
// pointer (8 bytes). For values that repeat across many objects, such as
// EndpointSlice nodeName (a few hundred nodes, shared by 100,000 endpoints):
// each copy costs a pointer instead of a 32-byte std::string plus, for names
// longer than 15 characters, a heap block.
//
// The pool only grows: every distinct value ever seen stays until exit. That
// is bounded for the fields it is used on (node names); do not use it for
// per-object values such as pod names or addresses. Thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace xgress::agent::k8s {

class InternedString {
public:
    InternedString() = default;
    explicit InternedString(std::string_view value);
    const std::string& str() const { return value_ ? *value_ : empty_string(); }
    operator std::string_view() const { return str(); }
    bool empty() const { return value_ == nullptr; }
    // Same text <=> same pointer: the pool holds each value once.
    bool operator==(const InternedString& other) const { return value_ == other.value_; }
    bool operator==(std::string_view other) const { return str() == other; }

private:
    static const std::string& empty_string();
    const std::string* value_ = nullptr;  // nullptr = ""
};

}  // namespace xgress::agent::k8s
