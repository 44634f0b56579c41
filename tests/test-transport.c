/* Transport selection (src/guest/transport.c) where no VM is around: what
 * the environment variables choose, and that a missing or wrong virtio-gpu
 * node gives a clear error instead of a hang or a crash. The virtio-gpu
 * transport itself runs in the VM test (tests/vm). */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "guest.h"
#include "harness.h"

static char err[512];

/* Opens with exactly these variables set (NULL: unset). */
static struct wgv_transport *open_with(const char *transport, const char *server, const char *node)
{
    const char *names[] = {"WGV_TRANSPORT", "WGV_SERVER", "WGV_VIRTGPU_NODE"};
    const char *values[] = {transport, server, node};
    for (int i = 0; i < 3; i++) {
        if (values[i])
            setenv(names[i], values[i], 1);
        else
            unsetenv(names[i]);
    }
    err[0] = 0;
    return wgv_transport_open(err, sizeof(err));
}

static void test_virtgpu_without_a_node_is_an_error(void)
{
    /* This machine has no virtio-gpu node offering capset 24. */
    char path[64];
    int fd = wgv_virtgpu_find_node(path, sizeof(path));
    CHECK(fd < 0);
    if (fd >= 0)
        close(fd);
    CHECK(open_with("virtgpu", NULL, NULL) == NULL);
    CHECK_MSG(strstr(err, "no virtio-gpu render node") != NULL, "%s", err);
}

static void test_missing_node_is_named(void)
{
    CHECK(open_with("virtgpu", NULL, "/nonexistent/renderD128") == NULL);
    CHECK_MSG(strstr(err, "/nonexistent/renderD128") != NULL, "%s", err);
    /* The node variable alone also selects virtgpu. */
    CHECK(open_with(NULL, NULL, "/nonexistent/renderD129") == NULL);
    CHECK_MSG(strstr(err, "/nonexistent/renderD129") != NULL, "%s", err);
}

static void test_not_a_drm_node_is_refused(void)
{
    CHECK(open_with("virtgpu", NULL, "/dev/null") == NULL);
    CHECK_MSG(strstr(err, "not a DRM device") != NULL, "%s", err);
    char why[160];
    CHECK(wgv_virtgpu_open_node("/dev/zero", why, sizeof(why)) < 0);
}

static void test_unknown_transport_is_refused(void)
{
    CHECK(open_with("carrier-pigeon", NULL, NULL) == NULL);
    CHECK_MSG(strstr(err, "unknown transport") != NULL, "%s", err);
}

static void test_server_variable_selects_the_socket(void)
{
    CHECK(open_with(NULL, "/nonexistent/wgv.sock", "/dev/null") == NULL);
    CHECK_MSG(strstr(err, "/nonexistent/wgv.sock") != NULL, "%s", err);
    CHECK(open_with("socket", "/nonexistent/other.sock", NULL) == NULL);
    CHECK_MSG(strstr(err, "/nonexistent/other.sock") != NULL, "%s", err);
}

static void test_nothing_set_falls_back_to_the_default_socket(void)
{
    setenv("XDG_RUNTIME_DIR", "/nonexistent-runtime", 1);
    char want[256];
    wgv_transport_socket_default(want, sizeof(want));
    CHECK(!strcmp(want, "/nonexistent-runtime/wgv.sock"));
    CHECK(open_with(NULL, NULL, NULL) == NULL);
    CHECK_MSG(strstr(err, want) != NULL, "%s", err);
}

int main(void)
{
    RUN(test_virtgpu_without_a_node_is_an_error);
    RUN(test_missing_node_is_named);
    RUN(test_not_a_drm_node_is_refused);
    RUN(test_unknown_transport_is_refused);
    RUN(test_server_variable_selects_the_socket);
    RUN(test_nothing_set_falls_back_to_the_default_socket);
    return harness_finish("transport");
}
