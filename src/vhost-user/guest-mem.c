/* Guest RAM regions: mapping, address translation, contiguous views of
 * scatter lists (guest-mem.h). */
#include "guest-mem.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static uint64_t page_size(void)
{
    return (uint64_t)sysconf(_SC_PAGESIZE);
}

static void region_unmap(struct wgv_vu_region *r)
{
    if (r->map)
        munmap(r->map, r->map_len);
    if (r->fd >= 0)
        close(r->fd);
    memset(r, 0, sizeof(*r));
    r->fd = -1;
}

/* The file behind an fd, to recognise a region the new table repeats. */
static bool file_id(int fd, uint64_t *dev, uint64_t *ino)
{
    struct stat st;
    if (fstat(fd, &st) != 0)
        return false;
    *dev = (uint64_t)st.st_dev;
    *ino = (uint64_t)st.st_ino;
    return true;
}

static bool same_region(const struct wgv_vu_region *r, const struct wgv_vu_region_desc *d,
                        int fd)
{
    uint64_t dev, ino;
    return r->d.gpa == d->gpa && r->d.size == d->size && r->d.uva == d->uva &&
           r->d.mmap_offset == d->mmap_offset && file_id(fd, &dev, &ino) && dev == r->dev &&
           ino == r->ino;
}

int wgv_vu_mem_set_table(struct wgv_vu_mem *mem, const struct wgv_vu_region_desc *descs,
                         const int *fds, unsigned n, char *err, size_t errlen)
{
    struct wgv_vu_region fresh[WGV_VU_MAX_REGIONS];
    bool kept[WGV_VU_MAX_REGIONS] = {false}; /* by old index: reused as is */
    bool mapped[WGV_VU_MAX_REGIONS] = {false}; /* by new index: a new mapping */
    uint64_t page = page_size();
    if (n > WGV_VU_MAX_REGIONS) {
        snprintf(err, errlen, "%u memory regions (at most %u)", n, WGV_VU_MAX_REGIONS);
        goto fail;
    }
    for (unsigned i = 0; i < n; i++) {
        const struct wgv_vu_region_desc *d = &descs[i];
        if (d->size == 0 || d->gpa + d->size < d->gpa || d->uva + d->size < d->uva ||
            d->mmap_offset + d->size < d->mmap_offset || d->size > SIZE_MAX / 2) {
            snprintf(err, errlen, "memory region %u: bad size or addresses", i);
            goto fail;
        }
        for (unsigned j = 0; j < i; j++)
            if (d->gpa < descs[j].gpa + descs[j].size && descs[j].gpa < d->gpa + d->size) {
                snprintf(err, errlen, "memory regions %u and %u overlap", j, i);
                goto fail;
            }
    }
    unsigned retiring = 0;
    for (unsigned i = 0; i < n; i++) {
        const struct wgv_vu_region_desc *d = &descs[i];
        /* QEMU sends the same table at every start (a resumed VM, a guest
         * reboot): keep what did not change, so nothing accumulates. */
        unsigned j = 0;
        while (j < mem->count && (kept[j] || !same_region(&mem->regions[j], d, fds[i])))
            j++;
        if (j < mem->count) {
            kept[j] = true;
            fresh[i] = mem->regions[j];
            continue;
        }
        uint64_t start = d->mmap_offset & ~(page - 1);
        size_t len = (size_t)(d->size + (d->mmap_offset - start));
        void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, fds[i],
                       (off_t)start);
        if (p == MAP_FAILED) {
            snprintf(err, errlen, "memory region %u: mmap of %zu bytes failed: %s", i, len,
                     strerror(errno));
            goto fail;
        }
        fresh[i] = (struct wgv_vu_region){*d, (uint8_t *)p + (d->mmap_offset - start), p, len,
                                          fds[i], 0, 0};
        file_id(fds[i], &fresh[i].dev, &fresh[i].ino);
        mapped[i] = true;
    }
    for (unsigned j = 0; j < mem->count; j++)
        retiring += !kept[j];
    /* The rest of the old table retires: resources may still point into it. */
    if (mem->retired_count + retiring > WGV_VU_MAX_RETIRED) {
        snprintf(err, errlen, "too many memory table changes");
        goto fail;
    }
    for (unsigned j = 0; j < mem->count; j++)
        if (!kept[j])
            mem->retired[mem->retired_count++] = mem->regions[j];
    for (unsigned i = 0; i < n; i++)
        if (!mapped[i])
            close(fds[i]); /* the kept region has its own */
    memcpy(mem->regions, fresh, n * sizeof(fresh[0]));
    mem->count = n;
    return 0;
fail:
    for (unsigned i = 0; i < n && i < WGV_VU_MAX_REGIONS; i++)
        if (mapped[i])
            munmap(fresh[i].map, fresh[i].map_len);
    for (unsigned i = 0; i < n; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    return -1;
}

void *wgv_vu_mem_gpa(const struct wgv_vu_mem *mem, uint64_t gpa, uint64_t len)
{
    if (len == 0)
        return NULL;
    for (unsigned i = 0; i < mem->count; i++) {
        const struct wgv_vu_region *r = &mem->regions[i];
        if (gpa >= r->d.gpa && gpa - r->d.gpa < r->d.size && len <= r->d.size - (gpa - r->d.gpa))
            return r->host + (gpa - r->d.gpa);
    }
    return NULL;
}

void *wgv_vu_mem_uva(const struct wgv_vu_mem *mem, uint64_t uva, uint64_t len)
{
    if (len == 0)
        return NULL;
    for (unsigned i = 0; i < mem->count; i++) {
        const struct wgv_vu_region *r = &mem->regions[i];
        if (uva >= r->d.uva && uva - r->d.uva < r->d.size && len <= r->d.size - (uva - r->d.uva))
            return r->host + (uva - r->d.uva);
    }
    return NULL;
}

static const struct wgv_vu_region *find_gpa(const struct wgv_vu_mem *mem, uint64_t gpa,
                                            uint64_t len)
{
    for (unsigned i = 0; i < mem->count; i++) {
        const struct wgv_vu_region *r = &mem->regions[i];
        if (len && gpa >= r->d.gpa && gpa - r->d.gpa < r->d.size &&
            len <= r->d.size - (gpa - r->d.gpa))
            return r;
    }
    return NULL;
}

static int cmp_run(const void *a, const void *b)
{
    const struct wgv_vu_run *x = a, *y = b;
    return x->gpa < y->gpa ? -1 : x->gpa > y->gpa;
}

void *wgv_vu_mem_map_runs(const struct wgv_vu_mem *mem, const struct wgv_vu_run *runs,
                          unsigned n, uint64_t total, char *err, size_t errlen)
{
    uint64_t page = page_size();
    if (total == 0 || total % page || total > SIZE_MAX / 2) {
        snprintf(err, errlen, "shared memory of %llu bytes is not a page multiple",
                 (unsigned long long)total);
        return NULL;
    }
    /* Which runs are used, and do they overlap? */
    struct wgv_vu_run *used = calloc(n ? n : 1, sizeof(*used));
    if (!used) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    unsigned m = 0;
    uint64_t covered = 0;
    for (unsigned i = 0; i < n && covered < total; i++) {
        uint64_t len = runs[i].len < total - covered ? runs[i].len : total - covered;
        if (runs[i].gpa % page || runs[i].len % page) {
            snprintf(err, errlen, "scatter entry %u (0x%llx, %llu bytes) is not page-aligned", i,
                     (unsigned long long)runs[i].gpa, (unsigned long long)runs[i].len);
            free(used);
            return NULL;
        }
        used[m++] = (struct wgv_vu_run){runs[i].gpa, len};
        covered += len;
    }
    if (covered < total) {
        snprintf(err, errlen, "backing of %llu bytes is smaller than the %llu needed",
                 (unsigned long long)covered, (unsigned long long)total);
        free(used);
        return NULL;
    }
    struct wgv_vu_run *sorted = malloc(m * sizeof(*sorted));
    if (!sorted) {
        free(used);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    memcpy(sorted, used, m * sizeof(*sorted));
    qsort(sorted, m, sizeof(*sorted), cmp_run);
    for (unsigned i = 1; i < m; i++)
        if (sorted[i - 1].gpa + sorted[i - 1].len > sorted[i].gpa) {
            snprintf(err, errlen, "scatter entries overlap at guest address 0x%llx",
                     (unsigned long long)sorted[i].gpa);
            free(sorted);
            free(used);
            return NULL;
        }
    free(sorted);
    uint8_t *base = mmap(NULL, (size_t)total, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                         -1, 0);
    if (base == MAP_FAILED) {
        snprintf(err, errlen, "reserving %llu bytes failed: %s", (unsigned long long)total,
                 strerror(errno));
        free(used);
        return NULL;
    }
    uint64_t off = 0;
    for (unsigned i = 0; i < m; i++) {
        const struct wgv_vu_region *r = find_gpa(mem, used[i].gpa, used[i].len);
        if (!r || (r->d.mmap_offset + (used[i].gpa - r->d.gpa)) % page) {
            snprintf(err, errlen, "scatter entry %u (0x%llx, %llu bytes) is not inside guest RAM",
                     i, (unsigned long long)used[i].gpa, (unsigned long long)used[i].len);
            goto fail;
        }
        off_t foff = (off_t)(r->d.mmap_offset + (used[i].gpa - r->d.gpa));
        void *p = mmap(base + off, (size_t)used[i].len, PROT_READ | PROT_WRITE,
                       MAP_SHARED | MAP_FIXED | MAP_NORESERVE, r->fd, foff);
        if (p == MAP_FAILED) {
            snprintf(err, errlen, "mapping scatter entry %u failed: %s", i, strerror(errno));
            goto fail;
        }
        off += used[i].len;
    }
    free(used);
    return base;
fail:
    munmap(base, (size_t)total);
    free(used);
    return NULL;
}

void wgv_vu_mem_clear(struct wgv_vu_mem *mem)
{
    for (unsigned i = 0; i < mem->count; i++)
        region_unmap(&mem->regions[i]);
    for (unsigned i = 0; i < mem->retired_count; i++)
        region_unmap(&mem->retired[i]);
    mem->count = mem->retired_count = 0;
}
