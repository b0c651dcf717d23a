package dev.drainguard.bench;

import java.util.Arrays;
import java.util.List;

/** Percentiles of a sample, nearest-rank: p99 of 100 values is the 99th smallest. */
record Stats(int n, double min, double p50, double p99, double max, double mean) {

  static Stats of(List<Double> values) {
    if (values.isEmpty()) {
      throw new IllegalArgumentException("no values");
    }
    double[] v = values.stream().mapToDouble(Double::doubleValue).toArray();
    Arrays.sort(v);
    return new Stats(
        v.length,
        v[0],
        rank(v, 0.50),
        rank(v, 0.99),
        v[v.length - 1],
        Arrays.stream(v).average().orElseThrow());
  }

  private static double rank(double[] sorted, double p) {
    int r = (int) Math.ceil(p * sorted.length);
    return sorted[Math.max(0, r - 1)];
  }
}
