/* Which transport a new client uses (docs/using.md, "Choosing the
 * transport"):
 *
 *   WGV_TRANSPORT=socket    wgv-server at $WGV_SERVER or the default path
 *   WGV_TRANSPORT=virtgpu   virtio-gpu: $WGV_VIRTGPU_NODE or the first
 *                           render node that offers our capset
 *   unset                   $WGV_SERVER set: the socket; else a virtio-gpu
 *                           node offering our capset (or $WGV_VIRTGPU_NODE);
 *                           else the default socket path */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "guest.h"

static const char *env(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

void wgv_transport_socket_default(char *buf, size_t cap)
{
    const char *dir = env("XDG_RUNTIME_DIR");
    if (dir)
        snprintf(buf, cap, "%s/wgv.sock", dir);
    else
        snprintf(buf, cap, "/tmp/wgv-%u.sock", (unsigned)getuid());
}

static struct wgv_transport *open_socket(char *err, size_t errlen)
{
    char fallback[256];
    const char *path = env("WGV_SERVER");
    if (!path) {
        wgv_transport_socket_default(fallback, sizeof(fallback));
        path = fallback;
    }
    return wgv_transport_socket_open(path, err, errlen);
}

/* The node $WGV_VIRTGPU_NODE names, or the first one that fits. */
static struct wgv_transport *open_virtgpu(char *err, size_t errlen)
{
    const char *node = env("WGV_VIRTGPU_NODE");
    char path[64];
    int fd;
    if (node) {
        fd = wgv_virtgpu_open_node(node, err, errlen);
    } else if ((fd = wgv_virtgpu_find_node(path, sizeof(path))) < 0) {
        snprintf(err, errlen, "no virtio-gpu render node in /dev/dri offers webgpu-virtio's capset");
    }
    return fd < 0 ? NULL : wgv_transport_virtgpu_open(fd, err, errlen);
}

struct wgv_transport *wgv_transport_open(char *err, size_t errlen)
{
    const char *which = env("WGV_TRANSPORT");
    if (which && !strcmp(which, "socket"))
        return open_socket(err, errlen);
    if (which && !strcmp(which, "virtgpu"))
        return open_virtgpu(err, errlen);
    if (which) {
        snprintf(err, errlen, "WGV_TRANSPORT=%s: unknown transport (socket or virtgpu)", which);
        return NULL;
    }
    if (env("WGV_SERVER"))
        return open_socket(err, errlen);
    if (env("WGV_VIRTGPU_NODE"))
        return open_virtgpu(err, errlen);
    /* Inside a VM with our device the node decides; a node that offers our
     * capset but then fails is reported, not skipped. */
    char path[64];
    int fd = wgv_virtgpu_find_node(path, sizeof(path));
    if (fd >= 0)
        return wgv_transport_virtgpu_open(fd, err, errlen);
    return open_socket(err, errlen);
}
