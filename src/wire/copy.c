/* The parallel copier (copy.h): the caller and its helpers each copy one
 * contiguous part, page-aligned, of the job the caller posts. A caller
 * that finds a job running copies alone. */
#include "copy.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct wgv_copier {
    unsigned want;     /* helpers to start */
    unsigned helpers;  /* started */
    bool tried;        /* helpers started (or failed to) */
    pthread_mutex_t lock;
    pthread_cond_t work, done;
    /* The job: parts 1..helpers go to the helpers, part 0 to the caller. */
    uint64_t job;      /* bumped for each job */
    uint8_t *dst;
    const uint8_t *src;
    size_t n, part;
    unsigned left;     /* helper parts not yet copied */
    bool busy;         /* a job is running: another caller copies alone */
    bool stop;
    pthread_t threads[WGV_COPY_HELPERS_MAX];
};

struct helper {
    struct wgv_copier *c;
    unsigned index;    /* its part: 1.. */
};

static void copy_part(struct wgv_copier *c, unsigned index)
{
    size_t start = c->part * index;
    if (start >= c->n)
        return;
    size_t len = c->n - start < c->part ? c->n - start : c->part;
    memcpy(c->dst + start, c->src + start, len);
}

static void *helper_main(void *arg)
{
    struct helper h = *(struct helper *)arg;
    free(arg);
    struct wgv_copier *c = h.c;
    uint64_t seen = 0;
    pthread_mutex_lock(&c->lock);
    for (;;) {
        while (!c->stop && c->job == seen)
            pthread_cond_wait(&c->work, &c->lock);
        if (c->stop)
            break;
        seen = c->job;
        pthread_mutex_unlock(&c->lock);
        copy_part(c, h.index);
        pthread_mutex_lock(&c->lock);
        if (--c->left == 0)
            pthread_cond_signal(&c->done);
    }
    pthread_mutex_unlock(&c->lock);
    return NULL;
}

unsigned wgv_copy_helpers_for(long cpus)
{
    if (cpus <= 1)
        return 0;
    long h = cpus / 2 - 1;
    if (h < 3)
        h = 3;
    if (h > WGV_COPY_HELPERS_MAX)
        h = WGV_COPY_HELPERS_MAX;
    return h > cpus - 1 ? (unsigned)(cpus - 1) : (unsigned)h;
}

struct wgv_copier *wgv_copier_create(unsigned helpers)
{
    struct wgv_copier *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    if (helpers == WGV_COPY_HELPERS_AUTO)
        helpers = wgv_copy_helpers_for(cpus);
    if (cpus > 1 && helpers > (unsigned long)cpus - 1)
        helpers = (unsigned)cpus - 1;
    if (cpus <= 1)
        helpers = 0;
    c->want = helpers < WGV_COPY_HELPERS_MAX ? helpers : WGV_COPY_HELPERS_MAX;
    pthread_mutex_init(&c->lock, NULL);
    pthread_cond_init(&c->work, NULL);
    pthread_cond_init(&c->done, NULL);
    return c;
}

/* Starts the helpers, the first time a copy is large enough to need them. */
static void start_helpers(struct wgv_copier *c)
{
    c->tried = true;
    for (unsigned i = 0; i < c->want; i++) {
        struct helper *h = malloc(sizeof(*h));
        if (!h)
            break;
        *h = (struct helper){c, i + 1};
        if (pthread_create(&c->threads[i], NULL, helper_main, h) != 0) {
            free(h);
            break;
        }
        c->helpers++;
    }
}

void wgv_copier_destroy(struct wgv_copier *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&c->lock);
    c->stop = true;
    pthread_cond_broadcast(&c->work);
    pthread_mutex_unlock(&c->lock);
    for (unsigned i = 0; i < c->helpers; i++)
        pthread_join(c->threads[i], NULL);
    pthread_cond_destroy(&c->work);
    pthread_cond_destroy(&c->done);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

void wgv_copy(struct wgv_copier *c, void *dst, const void *src, size_t n)
{
    if (!c || n < WGV_COPY_SPLIT_MIN || !c->want) {
        memcpy(dst, src, n);
        return;
    }
    pthread_mutex_lock(&c->lock);
    if (!c->tried)
        start_helpers(c);
    if (!c->helpers || c->busy) {
        pthread_mutex_unlock(&c->lock);
        memcpy(dst, src, n);
        return;
    }
    c->busy = true;
    unsigned parts = c->helpers + 1;
    /* Page-sized parts: no two threads write one page. */
    size_t part = (n + parts - 1) / parts;
    part = (part + 4095) & ~(size_t)4095;
    c->dst = dst;
    c->src = src;
    c->n = n;
    c->part = part;
    c->left = c->helpers;
    c->job++;
    pthread_cond_broadcast(&c->work);
    pthread_mutex_unlock(&c->lock);
    copy_part(c, 0);
    pthread_mutex_lock(&c->lock);
    while (c->left)
        pthread_cond_wait(&c->done, &c->lock);
    c->busy = false;
    pthread_mutex_unlock(&c->lock);
}
