// Pointer-sized stand-ins for object fields that are usually empty, so the
// objects (and the Object variant, sized by its largest alternative) stay
// small: 25,000 objects are cached at 100,000 endpoints, and each byte of
// sizeof(Object) costs 25 KB there.
//
// - StringList: a std::vector<std::string> behind one pointer (8 bytes, null
//   when empty, instead of 24) with the vector's read interface.
// - HeapOptional<T>: a std::optional<T> whose value lives on the heap (8
//   bytes instead of sizeof(T) + 8), for big optional parts (an Ingress's
//   defaultBackend, an IngressClass's parameters).
// - Boxed<T>: a T on the heap, for a rare and big Object alternative (a TLS
//   Secret's five PEM/text fields would otherwise size every Object).
// All copy deeply and compare by value, as the plain types did.
#pragma once

#include <cstddef>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace xgress::agent::k8s {

class StringList {
public:
    using value_type = std::string;
    using const_iterator = const std::string*;

    StringList() = default;
    StringList(std::vector<std::string> values) { assign(std::move(values)); }  // NOLINT: implicit, as a vector
    StringList(std::initializer_list<std::string> values) : StringList(std::vector<std::string>(values)) {}
    StringList(const StringList& other) { *this = other; }
    StringList(StringList&&) noexcept = default;
    StringList& operator=(const StringList& other) {
        if (this != &other) values_ = other.values_ ? std::make_unique<std::vector<std::string>>(*other.values_) : nullptr;
        return *this;
    }
    StringList& operator=(StringList&&) noexcept = default;

    const std::string* begin() const { return values_ ? values_->data() : nullptr; }
    const std::string* end() const { return values_ ? values_->data() + values_->size() : nullptr; }
    std::size_t size() const { return values_ ? values_->size() : 0; }
    bool empty() const { return !values_; }  // never holds an empty vector
    const std::string& operator[](std::size_t i) const { return (*values_)[i]; }
    void push_back(std::string value) {
        if (!values_) values_ = std::make_unique<std::vector<std::string>>();
        values_->push_back(std::move(value));
    }
    // For code that takes the vector itself.
    const std::vector<std::string>& vector() const {
        static const std::vector<std::string> none;
        return values_ ? *values_ : none;
    }
    operator const std::vector<std::string>&() const { return vector(); }  // NOLINT: implicit on purpose
    bool operator==(const StringList& other) const { return vector() == other.vector(); }
    bool operator==(const std::vector<std::string>& other) const { return vector() == other; }

private:
    void assign(std::vector<std::string> values) {
        if (values.empty()) values_.reset();
        else {
            values.shrink_to_fit();
            values_ = std::make_unique<std::vector<std::string>>(std::move(values));
        }
    }
    std::unique_ptr<std::vector<std::string>> values_;
};

template <class T>
class HeapOptional {
public:
    HeapOptional() = default;
    HeapOptional(std::nullopt_t) {}                    // NOLINT: implicit, as std::optional
    HeapOptional(T value) : value_(std::make_unique<T>(std::move(value))) {}  // NOLINT
    HeapOptional(std::optional<T> value) {                                     // NOLINT
        if (value) value_ = std::make_unique<T>(std::move(*value));
    }
    HeapOptional(const HeapOptional& other) : value_(other.value_ ? std::make_unique<T>(*other.value_) : nullptr) {}
    HeapOptional(HeapOptional&&) noexcept = default;
    HeapOptional& operator=(const HeapOptional& other) {
        if (this != &other) value_ = other.value_ ? std::make_unique<T>(*other.value_) : nullptr;
        return *this;
    }
    HeapOptional& operator=(HeapOptional&&) noexcept = default;

    bool has_value() const { return value_ != nullptr; }
    explicit operator bool() const { return has_value(); }
    const T& operator*() const { return *value_; }
    T& operator*() { return *value_; }
    const T* operator->() const { return value_.get(); }
    T* operator->() { return value_.get(); }
    void reset() { value_.reset(); }
    bool operator==(const HeapOptional& other) const {
        return has_value() == other.has_value() && (!has_value() || *value_ == *other.value_);
    }

private:
    std::unique_ptr<T> value_;
};

template <class T>
class Boxed {
public:
    Boxed() : value_(std::make_unique<T>()) {}
    Boxed(T value) : value_(std::make_unique<T>(std::move(value))) {}  // NOLINT: implicit, so Object{T{...}} works
    Boxed(const Boxed& other) : value_(std::make_unique<T>(*other.value_)) {}
    Boxed(Boxed&&) noexcept = default;  // the moved-from box is empty: assign or destroy it only
    Boxed& operator=(const Boxed& other) {
        if (this != &other) value_ = std::make_unique<T>(*other.value_);
        return *this;
    }
    Boxed& operator=(Boxed&&) noexcept = default;

    const T& get() const { return *value_; }
    T& get() { return *value_; }
    bool operator==(const Boxed& other) const { return *value_ == *other.value_; }

private:
    std::unique_ptr<T> value_;
};

// T itself, or the T inside a Boxed<T>.
template <class T>
const T& unboxed(const T& value) { return value; }
template <class T>
const T& unboxed(const Boxed<T>& value) { return value.get(); }

}  // namespace xgress::agent::k8s
