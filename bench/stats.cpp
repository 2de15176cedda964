/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "stats.h"

#include <algorithm>
#include <cmath>

namespace wmstream::bench {

size_t Histogram::bucket_of(int64_t value) {
    if (value < int64_t(kSub))
        return size_t(std::max<int64_t>(value, 0));
    const int exponent = 63 - __builtin_clzll(uint64_t(value)); /* ≥ kSubBits */
    if (exponent >= kMaxExponent)
        return kBuckets - 1;
    const size_t sub = size_t(value >> (exponent - kSubBits)) & (kSub - 1);
    return kSub + size_t(exponent - kSubBits) * kSub + sub;
}

int64_t Histogram::upper_bound_of(size_t bucket) {
    if (bucket < kSub)
        return int64_t(bucket);
    const int exponent = int((bucket - kSub) / kSub) + kSubBits;
    const int64_t sub = int64_t((bucket - kSub) % kSub);
    const int64_t step = int64_t(1) << (exponent - kSubBits);
    return (int64_t(1) << exponent) + (sub + 1) * step - 1;
}

void Histogram::add(int64_t value) {
    value = std::max<int64_t>(value, 0);
    ++buckets_[bucket_of(value)];
    ++count_;
    max_ = std::max(max_, value);
}

void Histogram::merge(const Histogram &other) {
    for (size_t i = 0; i < kBuckets; ++i)
        buckets_[i] += other.buckets_[i];
    count_ += other.count_;
    max_ = std::max(max_, other.max_);
}

int64_t Histogram::percentile(double p) const {
    if (count_ == 0)
        return 0;
    const uint64_t rank = std::max<uint64_t>(1, uint64_t(std::ceil(p * double(count_))));
    uint64_t seen = 0;
    for (size_t i = 0; i < kBuckets; ++i) {
        seen += buckets_[i];
        if (seen >= rank)
            return i == kBuckets - 1 ? max_ : std::min(upper_bound_of(i), max_);
    }
    return max_;
}

double percentile(std::vector<double> &values, double p) {
    if (values.empty())
        return 0;
    std::sort(values.begin(), values.end());
    const size_t rank = std::max<size_t>(1, size_t(std::ceil(p * double(values.size()))));
    return values[std::min(rank, values.size()) - 1];
}

} // namespace wmstream::bench
