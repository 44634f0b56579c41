/* The benchmark cases of wgv-bench (docs/benchmarks.md). cases.c is built
 * twice, like the examples: against Dawn's header and linked to Dawn (the
 * native baseline), and against the standard header and linked to the guest
 * library (through the wire). The driver (wgv-bench.c) runs one worker of
 * each kind and alternates them. */
#ifndef WGV_BENCH_CASES_H
#define WGV_BENCH_CASES_H

#include <stddef.h>
#include <stdint.h>

struct bench_state;

/* One measurement: `amount` units of work (flops, dispatches, round trips,
 * bytes, objects, draws) done in `seconds` over `iters` repetitions. */
struct bench_result {
    double seconds;
    double amount;
    uint64_t iters;
};

/* Opens the default adapter's device; NULL on failure (reported). */
struct bench_state *bench_state_create(void);

/* Prints "NAME (BACKEND)" of the state's adapter into buf. */
void bench_state_adapter(struct bench_state *s, char *buf, size_t cap);

/* Runs case `name` at `size`, `iters` times (0: as many as fit in about
 * budget_s, from a one-repetition calibration run). Returns 0, or -1 with
 * a reason in err. */
int bench_case_run(struct bench_state *s, const char *name, uint64_t size, uint64_t iters,
                   double budget_s, struct bench_result *out, char *err, size_t errlen);

/* Releases every object and the device. */
void bench_state_destroy(struct bench_state *s);

#endif
