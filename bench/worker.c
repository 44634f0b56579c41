/* A wgv-bench worker: one device, cases run on request. Built natively
 * (wgv-bench-native) and against the guest library (wgv-bench-wire); the
 * driver talks to it over stdin/stdout, one line each way:
 *
 *   -> run CASE SIZE ITERS BUDGET_S     <- ok SECONDS AMOUNT ITERS | err REASON
 *   -> quit
 *
 * It starts by printing "ready ADAPTER". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cases.h"

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    struct bench_state *s = bench_state_create();
    if (!s) {
        printf("err no device\n");
        return 1;
    }
    char adapter[256];
    bench_state_adapter(s, adapter, sizeof adapter);
    printf("ready %s\n", adapter);
    char line[512];
    while (fgets(line, sizeof line, stdin)) {
        char name[32];
        unsigned long long size, iters;
        double budget;
        if (!strncmp(line, "quit", 4))
            break;
        if (sscanf(line, "run %31s %llu %llu %lf", name, &size, &iters, &budget) != 4) {
            printf("err bad request\n");
            continue;
        }
        struct bench_result r;
        char err[256] = "";
        if (bench_case_run(s, name, size, iters, budget, &r, err, sizeof err) < 0)
            printf("err %s\n", err);
        else
            printf("ok %.9f %.17g %llu\n", r.seconds, r.amount, (unsigned long long)r.iters);
    }
    bench_state_destroy(s);
    return 0;
}
