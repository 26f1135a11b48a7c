// Bucket boundaries: the lengths a model is compiled for. Checked once, where text or user
// input becomes a Boundaries (parse, from); everything that holds one trusts it: positive,
// strictly ascending, at most kMaxLength. Empty means "no boundaries" (no current set, say).
#pragma once

#include "core/util/error.h"

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bucketlab {

// The longest length (and boundary) any part of BucketLab accepts: 2^24 = 16,777,216 tokens,
// beyond any model's context today, and small enough that lengths times batch sizes times
// element sizes are checked against memory budgets without overflow.
inline constexpr int64_t kMaxLength = int64_t(1) << 24;

class Boundaries {
public:
    Boundaries() = default;
    // Boundaries written in code ({128, 512}), checked as from() checks them.
    Boundaries(std::initializer_list<int64_t> values);
    // "128,256,512" (blanks around items allowed). Throws Error naming `about` and the
    // offending item: an empty list or item, a trailing comma, a value that is not a whole
    // number, not positive, above kMaxLength, repeated or out of order.
    static Boundaries parse(std::string_view text, Field about);
    // The same checks on a list of values (from a file, the desktop, a solver).
    static Boundaries from(std::vector<int64_t> values, Field about);
    // As from(), with a message that names the source instead of a field ("model.pt:
    // bucketlab_meta boundaries").
    static Boundaries from(std::vector<int64_t> values, const std::string& where);
    // The same checks where a user is still editing (a handle being dragged): nullopt instead
    // of an error for values that are not boundaries.
    static std::optional<Boundaries> tryFrom(std::vector<int64_t> values);

    const std::vector<int64_t>& values() const { return values_; }
    // Read as the plain list it is (lengths helpers, JSON).
    operator const std::vector<int64_t>&() const { return values_; }
    bool empty() const { return values_.empty(); }
    size_t size() const { return values_.size(); }
    int64_t operator[](size_t i) const { return values_[i]; }
    std::vector<int64_t>::const_iterator begin() const { return values_.begin(); }
    std::vector<int64_t>::const_iterator end() const { return values_.end(); }
    // The largest boundary, 0 when empty.
    int64_t largest() const { return values_.empty() ? 0 : values_.back(); }
    // Index of the bucket a request of `length` pads to: the smallest boundary >= length.
    // nullopt above the largest boundary (rejected) and for lengths below 1.
    std::optional<size_t> bucketFor(int64_t length) const;
    bool contains(int64_t boundary) const;
    // "128,256,512"
    std::string str() const;

    friend bool operator==(const Boundaries& a, const Boundaries& b)
    {
        return a.values_ == b.values_;
    }
    friend bool operator!=(const Boundaries& a, const Boundaries& b) { return !(a == b); }
    friend bool operator==(const Boundaries& a, const std::vector<int64_t>& b)
    {
        return a.values_ == b;
    }
    friend bool operator!=(const Boundaries& a, const std::vector<int64_t>& b) { return !(a == b); }
    friend bool operator==(const std::vector<int64_t>& a, const Boundaries& b) { return b == a; }
    friend bool operator!=(const std::vector<int64_t>& a, const Boundaries& b) { return !(b == a); }

private:
    static Boundaries checked(std::vector<int64_t> values, const std::string& what);
    std::vector<int64_t> values_;
};

// One length as a user typed it: a whole number in 1..kMaxLength, else Error naming `about`.
int64_t parseLength(std::string_view text, Field about);

// The largest batch size any check or measurement makes inputs for.
inline constexpr int64_t kMaxBatch = 4096;

// A list of whole numbers in 1..max given in any order ("5,1,2": batch sizes, lengths to
// measure), returned ascending without repeats. Errors as for Boundaries::parse.
std::vector<int64_t> parsePositiveList(std::string_view text, Field about, int64_t max);

} // namespace bucketlab
