// Minimum, median and maximum of a figure over runs with different seeds: the simulator is
// deterministic per seed, so claims rest on several seeds, not one.
#pragma once

#include <algorithm>
#include <vector>

namespace harness {

struct Spread {
  double min = 0, median = 0, max = 0;
};

// The median of an even count is the mean of the two middle values. Empty input: all zero.
inline Spread spread_of(std::vector<double> v) {
  if (v.empty()) return {};
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  const double median = n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
  return {v.front(), median, v.back()};
}

}  // namespace harness
