/* Stands in for ggml's CUDA header when scripts/bench-llm builds ggml's
 * GPT-2 example (examples/gpt-2/main-sched.cpp, compiled as it is with
 * GGML_USE_CUDA): the example's one CUDA call, the GPU backend's
 * initialisation, becomes a lookup in ggml's backend registry by device
 * name, $WGV_LLM_BACKEND (default "WebGPU"; "Vulkan0" for ggml's Vulkan
 * backend). The example's own message still says "CUDA"; the line this
 * prints names the backend it got. */
#ifndef WGV_LLM_SHIM_GGML_CUDA_H
#define WGV_LLM_SHIM_GGML_CUDA_H

#include <stdio.h>
#include <stdlib.h>

#include "ggml-backend.h"

static inline ggml_backend_t ggml_backend_cuda_init(int device)
{
    (void)device;
    const char *name = getenv("WGV_LLM_BACKEND");
    if (!name || !*name)
        name = "WebGPU";
    ggml_backend_t backend = ggml_backend_init_by_name(name, NULL);
    fprintf(stderr, "wgv-llm: GPU backend %s: %s\n", name, backend ? ggml_backend_name(backend) : "none");
    return backend;
}

#endif
