/* A small test harness: each suite is one program that runs named test
 * functions and ends with the line "<suite>: N passed, M failed".
 *
 *   static void test_something(void) { CHECK(x == 1); }
 *   int main(void) { RUN(test_something); return harness_finish("suite"); }
 */
#ifndef WGV_TESTS_HARNESS_H
#define WGV_TESTS_HARNESS_H

#include <stdio.h>

struct harness {
    int passed, failed;
    int current_failed; /* checks failed in the running test */
};

/* One harness per test program; the checks report into it. */
static struct harness harness_state;

#define CHECK(cond)                                                             \
    do {                                                                        \
        if (!(cond)) {                                                          \
            fprintf(stderr, "  %s:%d: check failed: %s\n", __FILE__, __LINE__,  \
                    #cond);                                                     \
            harness_state.current_failed++;                                     \
        }                                                                       \
    } while (0)

#define CHECK_MSG(cond, ...)                                                    \
    do {                                                                        \
        if (!(cond)) {                                                          \
            fprintf(stderr, "  %s:%d: check failed: %s: ", __FILE__, __LINE__,  \
                    #cond);                                                     \
            fprintf(stderr, __VA_ARGS__);                                       \
            fputc('\n', stderr);                                                \
            harness_state.current_failed++;                                     \
        }                                                                       \
    } while (0)

#define RUN(fn)                                                                 \
    do {                                                                        \
        harness_state.current_failed = 0;                                       \
        fn();                                                                   \
        if (harness_state.current_failed) {                                     \
            harness_state.failed++;                                             \
            printf("FAIL %s\n", #fn);                                           \
        } else {                                                                \
            harness_state.passed++;                                             \
            printf("ok   %s\n", #fn);                                           \
        }                                                                       \
        fflush(stdout);                                                         \
    } while (0)

/* Prints the closing line and returns the process exit status. */
static inline int harness_finish(const char *suite)
{
    printf("%s: %d passed, %d failed\n", suite, harness_state.passed, harness_state.failed);
    return harness_state.failed ? 1 : 0;
}

#endif
