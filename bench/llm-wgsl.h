/* The shaders of wgv-bench's LLM-shaped matmul cases (llm-proj, llm-ffn):
 * C (M x N) = A (M x K) x B (K x N), f32, as a transformer layer multiplies
 * a batch of M activations by a weight matrix. B may be split into column
 * blocks (one binding each, as a device's binding-size limit requires):
 * a dispatch covers one block, nb columns that land at column col0 of C.
 * Bindings: a, b (the block), c, dims. */
#ifndef WGV_BENCH_LLM_WGSL_H
#define WGV_BENCH_LLM_WGSL_H

#define LLM_WGSL_HEAD                                                       \
    "struct Dims { m : u32, k : u32, nb : u32, n : u32, col0 : u32 }\n"      \
    "@group(0) @binding(0) var<storage, read> a : array<f32>;\n"             \
    "@group(0) @binding(1) var<storage, read> b : array<f32>;\n"             \
    "@group(0) @binding(2) var<storage, read_write> c : array<f32>;\n"       \
    "@group(0) @binding(3) var<uniform> dims : Dims;\n"

/* A few rows (generation: M of 1 to 7): one invocation per column, the
 * weights read once, in order across a workgroup. 64 columns a workgroup. */
static const char *const llm_gemv_wgsl =
    LLM_WGSL_HEAD
    "@compute @workgroup_size(64)\n"
    "fn main(@builtin(global_invocation_id) g : vec3u) {\n"
    "  let col = g.x;\n"
    "  if (col >= dims.nb) { return; }\n"
    "  for (var r = 0u; r < dims.m; r++) {\n"
    "    var acc = 0.0;\n"
    "    for (var k = 0u; k < dims.k; k++) {\n"
    "      acc = fma(a[r * dims.k + k], b[k * dims.nb + col], acc);\n"
    "    }\n"
    "    c[r * dims.n + dims.col0 + col] = acc;\n"
    "  }\n"
    "}\n";

/* A batch (prompt processing): 32 x 32 tiles of C, a 16 x 16 workgroup
 * each, every invocation 2 x 2 outputs, tiles of A and B staged in
 * workgroup memory (the matmul example's scheme, for any M, K, N). */
static const char *const llm_gemm_wgsl =
    LLM_WGSL_HEAD
    "const T : u32 = 32u;\n"
    "const H : u32 = 16u;\n"
    "var<workgroup> ta : array<array<f32, 32>, 32>;\n"
    "var<workgroup> tb : array<array<f32, 32>, 32>;\n"
    "@compute @workgroup_size(16, 16)\n"
    "fn main(@builtin(local_invocation_id) l : vec3u, @builtin(workgroup_id) w : vec3u) {\n"
    "  let row0 = w.y * T;\n"
    "  let col0 = w.x * T;\n"
    "  var c00 = 0.0; var c01 = 0.0; var c10 = 0.0; var c11 = 0.0;\n"
    "  for (var t = 0u; t < dims.k; t += T) {\n"
    "    for (var i = 0u; i < 2u; i++) {\n"
    "      for (var j = 0u; j < 2u; j++) {\n"
    "        let r = l.y + i * H;\n"
    "        let q = l.x + j * H;\n"
    "        var va = 0.0;\n"
    "        if (row0 + r < dims.m && t + q < dims.k) { va = a[(row0 + r) * dims.k + t + q]; }\n"
    "        ta[r][q] = va;\n"
    "        var vb = 0.0;\n"
    "        if (t + r < dims.k && col0 + q < dims.nb) { vb = b[(t + r) * dims.nb + col0 + q]; }\n"
    "        tb[r][q] = vb;\n"
    "      }\n"
    "    }\n"
    "    workgroupBarrier();\n"
    "    for (var q = 0u; q < T; q++) {\n"
    "      let a0 = ta[l.y][q];\n"
    "      let a1 = ta[l.y + H][q];\n"
    "      let b0 = tb[q][l.x];\n"
    "      let b1 = tb[q][l.x + H];\n"
    "      c00 = fma(a0, b0, c00); c01 = fma(a0, b1, c01);\n"
    "      c10 = fma(a1, b0, c10); c11 = fma(a1, b1, c11);\n"
    "    }\n"
    "    workgroupBarrier();\n"
    "  }\n"
    "  let r0 = row0 + l.y; let r1 = r0 + H;\n"
    "  let k0 = col0 + l.x; let k1 = k0 + H;\n"
    "  let o = dims.col0;\n"
    "  if (r0 < dims.m && k0 < dims.nb) { c[r0 * dims.n + o + k0] = c00; }\n"
    "  if (r0 < dims.m && k1 < dims.nb) { c[r0 * dims.n + o + k1] = c01; }\n"
    "  if (r1 < dims.m && k0 < dims.nb) { c[r1 * dims.n + o + k0] = c10; }\n"
    "  if (r1 < dims.m && k1 < dims.nb) { c[r1 * dims.n + o + k1] = c11; }\n"
    "}\n";

#endif
