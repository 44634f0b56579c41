/* Guest RAM as the front-end shares it (SET_MEM_TABLE): memfd-backed
 * regions mapped into the daemon, and translations from guest-physical and
 * front-end-virtual addresses to our pointers, each checked to lie wholly
 * inside one region. */
#ifndef WGV_VU_GUEST_MEM_H
#define WGV_VU_GUEST_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WGV_VU_MAX_REGIONS 8
/* Old tables kept mapped (resources may still point into them) until the
 * front-end leaves. */
#define WGV_VU_MAX_RETIRED 64

/* A region as the front-end describes it. */
struct wgv_vu_region_desc {
    uint64_t gpa, size, uva, mmap_offset;
};

struct wgv_vu_region {
    struct wgv_vu_region_desc d;
    uint8_t *host;  /* our address of gpa */
    void *map;      /* the whole mapping (page-aligned start) */
    size_t map_len;
    int fd;         /* kept open: SETUP maps runs of it again */
    uint64_t dev, ino; /* the file, to recognise it in a later table */
};

struct wgv_vu_mem {
    struct wgv_vu_region regions[WGV_VU_MAX_REGIONS];
    unsigned count;
    struct wgv_vu_region retired[WGV_VU_MAX_RETIRED];
    unsigned retired_count;
};

/* A run of guest-physical memory (one scatter-list entry). */
struct wgv_vu_run {
    uint64_t gpa, len;
};

/* Replaces the table with n regions (fds are taken over: kept, or closed).
 * Regions repeated unchanged keep their mapping; the others of the old table
 * stay mapped until wgv_vu_mem_clear. 0, or -1 with a reason. */
int wgv_vu_mem_set_table(struct wgv_vu_mem *mem, const struct wgv_vu_region_desc *descs,
                         const int *fds, unsigned n, char *err, size_t errlen);

/* Our pointer to [gpa, gpa + len) if it lies in one region (len > 0), else NULL. */
void *wgv_vu_mem_gpa(const struct wgv_vu_mem *mem, uint64_t gpa, uint64_t len);

/* The same for a front-end virtual address (vring addresses). */
void *wgv_vu_mem_uva(const struct wgv_vu_mem *mem, uint64_t uva, uint64_t len);

/* Maps the first `total` bytes of a scatter list contiguously at a fresh
 * address (one MAP_FIXED|MAP_SHARED mapping per run into a reserved range).
 * Runs must be page-aligned, inside guest RAM and must not overlap. Returns
 * the base (unmap with munmap(base, total)) or NULL with a reason. */
void *wgv_vu_mem_map_runs(const struct wgv_vu_mem *mem, const struct wgv_vu_run *runs,
                          unsigned n, uint64_t total, char *err, size_t errlen);

/* Unmaps every region, current and retired, and closes their fds. */
void wgv_vu_mem_clear(struct wgv_vu_mem *mem);

#endif
