/* The parallel copier (src/wire/copy.c): every byte lands once and nothing
 * outside the destination is written, for sizes below, at and around the
 * split and with odd lengths and offsets; two threads copying at once through
 * one copier; the helper count a machine's CPUs get. */
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "wire/copy.h"

/* Bytes that differ at every offset and from one run to the next. */
static void fill(uint8_t *p, size_t n, uint32_t seed)
{
    uint32_t x = seed * 2654435761u + 1;
    for (size_t i = 0; i < n; i++) {
        x = x * 1103515245u + 12345u;
        p[i] = (uint8_t)(x >> 16);
    }
}

/* Copies n bytes from src+so to dst+do through `c`; checks the copy and
 * that a guard of 4 KiB either side of it is untouched. */
static bool copy_checked(struct wgv_copier *c, size_t n, size_t so, size_t dof, uint32_t seed)
{
    const size_t guard = 4096;
    uint8_t *src = malloc(n + so);
    uint8_t *dst = malloc(n + dof + 2 * guard);
    if (!src || !dst) {
        free(src);
        free(dst);
        return false;
    }
    fill(src, n + so, seed);
    memset(dst, 0x5a, n + dof + 2 * guard);
    wgv_copy(c, dst + guard + dof, src + so, n);
    bool ok = memcmp(dst + guard + dof, src + so, n) == 0;
    for (size_t i = 0; i < guard + dof && ok; i++)
        ok = dst[i] == 0x5a;
    for (size_t i = guard + dof + n; i < n + dof + 2 * guard && ok; i++)
        ok = dst[i] == 0x5a;
    free(src);
    free(dst);
    return ok;
}

static void test_copies_every_byte_at_every_size(void)
{
    struct wgv_copier *c = wgv_copier_create(WGV_COPY_HELPERS_MAX);
    CHECK(c != NULL);
    const size_t sizes[] = {0, 1, 4095, 4096, WGV_COPY_SPLIT_MIN - 1, WGV_COPY_SPLIT_MIN,
                            WGV_COPY_SPLIT_MIN + 1, WGV_COPY_SPLIT_MIN + 4096 * 7 + 13,
                            (size_t)33 << 20};
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        CHECK(copy_checked(c, sizes[i], 0, 0, (uint32_t)i));
        CHECK(copy_checked(c, sizes[i], 3, 1, (uint32_t)i + 100));
    }
    wgv_copier_destroy(c);
}

static void test_no_helpers_and_no_copier_copy_too(void)
{
    struct wgv_copier *c = wgv_copier_create(0);
    CHECK(c != NULL);
    CHECK(copy_checked(c, WGV_COPY_SPLIT_MIN * 2 + 5, 1, 2, 7));
    wgv_copier_destroy(c);
    CHECK(copy_checked(NULL, WGV_COPY_SPLIT_MIN * 2 + 5, 1, 2, 8));
    wgv_copier_destroy(NULL);
}

struct racer {
    struct wgv_copier *c;
    uint32_t seed;
    bool ok;
};

static void *race(void *arg)
{
    struct racer *r = arg;
    r->ok = true;
    for (uint32_t k = 0; k < 6; k++)
        r->ok &= copy_checked(r->c, WGV_COPY_SPLIT_MIN * 3 + k * 4099, k, k + 1, r->seed + k);
    return NULL;
}

static void test_two_threads_share_a_copier(void)
{
    struct wgv_copier *c = wgv_copier_create(WGV_COPY_HELPERS_AUTO);
    CHECK(c != NULL);
    struct racer r[2] = {{c, 1, false}, {c, 50, false}};
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        CHECK(pthread_create(&t[i], NULL, race, &r[i]) == 0);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    CHECK(r[0].ok && r[1].ok);
    wgv_copier_destroy(c);
}

static void test_helpers_follow_the_cpus(void)
{
    CHECK(wgv_copy_helpers_for(1) == 0);
    CHECK(wgv_copy_helpers_for(2) == 1);
    CHECK(wgv_copy_helpers_for(4) == 3);
    CHECK(wgv_copy_helpers_for(8) == 3);
    CHECK(wgv_copy_helpers_for(12) == 5);
    CHECK(wgv_copy_helpers_for(16) == 7);
    CHECK(wgv_copy_helpers_for(256) == WGV_COPY_HELPERS_MAX);
}

int main(void)
{
    RUN(test_copies_every_byte_at_every_size);
    RUN(test_no_helpers_and_no_copier_copy_too);
    RUN(test_two_threads_share_a_copier);
    RUN(test_helpers_follow_the_cpus);
    return harness_finish("copy");
}
