/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Small statistics for the load generator: a log-linear histogram for
 * many samples (latency: one per packet per client) and nearest-rank
 * percentiles for per-client values.
 */
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace wmstream::bench {

/**
 * Histogram of non-negative integers (µs) with a relative error below
 * 1/128: values below 128 are exact, larger ones fall in 128 buckets per
 * power of two, up to 2^40 (percentiles report a bucket's upper bound).
 */
class Histogram {
public:
    void add(int64_t value);
    void merge(const Histogram &other);
    uint64_t count() const { return count_; }
    int64_t max() const { return max_; }
    /** The value below which a fraction @p p (0..1) of the samples lie (bucket upper bound,
     *  capped at max()); 0 when empty. */
    int64_t percentile(double p) const;

private:
    static constexpr int kSubBits = 7;
    static constexpr size_t kSub = size_t(1) << kSubBits;
    static constexpr int kMaxExponent = 40;
    static constexpr size_t kBuckets = kSub + (kMaxExponent - kSubBits) * kSub;
    static size_t bucket_of(int64_t value);
    static int64_t upper_bound_of(size_t bucket);

    std::array<uint64_t, kBuckets> buckets_{};
    uint64_t count_ = 0;
    int64_t max_ = 0;
};

/** Nearest-rank percentile of @p values (0..1); 0 when empty. Sorts @p values. */
double percentile(std::vector<double> &values, double p);

} // namespace wmstream::bench
