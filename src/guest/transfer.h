/* Transfers of any size through a bounded bulk area (transfer.c,
 * docs/protocol.md "Large transfers"): uploads split into chunks, mappings
 * too large for the bulk area kept in guest memory and streamed. */
#ifndef WGV_GUEST_TRANSFER_H
#define WGV_GUEST_TRANSFER_H

#include <stdbool.h>
#include <stdint.h>

#include "guest.h"

/* The largest chunk one command carries through the bulk area. */
#define WGV_TRANSFER_CHUNK_MAX (8ull << 20)
/* The smallest chunk tried when the bulk area is crowded. */
#define WGV_TRANSFER_CHUNK_MIN 4096ull

/* This connection's chunk size: an eighth of the bulk area, at most
 * WGV_TRANSFER_CHUNK_MAX, a multiple of 256. Larger payloads are chunked. */
uint64_t wgv_transfer_chunk(const struct wgv_client *c);

/* Sets aside a zero-copy bulk range of `size` bytes for a mapping if
 * mappings then hold at most half the area (so that chunked transfers
 * always find room); false otherwise, and the mapping is kept in guest
 * memory instead (lock held). */
bool wgv_transfer_map_bulk(struct wgv_client *c, uint64_t size, uint64_t *offset);

/* Guest memory for a mapping of `size` bytes, zero-filled; NULL if none. */
uint8_t *wgv_transfer_private_alloc(uint64_t size);
/* Gives b->priv guest memory for a mapping of `size` bytes that the pull
 * fills entirely: the buffer's spare memory if large enough, else new;
 * false if there is none (lock held). */
bool wgv_transfer_private_take(struct wgv_buffer *b, uint64_t size);
/* Ends a buffer's guest-memory mapping, if it has one, keeping its memory
 * as the buffer's spare (lock held). */
void wgv_transfer_private_free(struct wgv_buffer *b);
/* Frees the buffer's guest-memory mapping and its spare (lock held). */
void wgv_transfer_private_drop(struct wgv_buffer *b);

/* A successful map of a buffer whose mapping is in guest memory: copies the
 * mapped bytes from the host's mapping, chunk by chunk, before the map's
 * callback runs. Call without the lock. True when there is nothing to copy
 * or everything arrived; false (with a reason in why) when the mapping
 * ended first or the host is gone. */
bool wgv_transfer_pull(struct wgv_client *c, struct wgv_buffer *b, uint64_t map_future,
                       const char **why);

/* An unmap of a writable mapping in guest memory: sends its bytes to the
 * host's mapping in chunks (lock held; the unmap itself goes after). */
void wgv_transfer_push(struct wgv_client *c, struct wgv_buffer *b);

#endif
