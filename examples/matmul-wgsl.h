/* The tiled f32 matrix multiply of the matmul example, also timed by
 * wgv-bench: C = A x B for n x n matrices (bindings: a, b, c, dims.n).
 * C is tiled into 32x32 blocks, one 16x16 workgroup per block: each round
 * the workgroup stages a 32x32 tile of A and of B in workgroup memory and
 * each invocation accumulates a 2x2 group of outputs. */
#ifndef WGV_EXAMPLES_MATMUL_WGSL_H
#define WGV_EXAMPLES_MATMUL_WGSL_H

static const char *const matmul_wgsl =
    "struct Dims { n : u32 }\n"
    "@group(0) @binding(0) var<storage, read> a : array<f32>;\n"
    "@group(0) @binding(1) var<storage, read> b : array<f32>;\n"
    "@group(0) @binding(2) var<storage, read_write> c : array<f32>;\n"
    "@group(0) @binding(3) var<uniform> dims : Dims;\n"
    "\n"
    "const T : u32 = 32u;   // tile edge\n"
    "const H : u32 = 16u;   // workgroup edge: each invocation owns 2x2 outputs\n"
    "var<workgroup> ta : array<array<f32, 32>, 32>;\n"
    "var<workgroup> tb : array<array<f32, 32>, 32>;\n"
    "\n"
    "@compute @workgroup_size(16, 16)\n"
    "fn main(@builtin(local_invocation_id) l : vec3u, @builtin(workgroup_id) w : vec3u) {\n"
    "  let n = dims.n;\n"
    "  let row0 = w.y * T;\n"
    "  let col0 = w.x * T;\n"
    "  var c00 = 0.0; var c01 = 0.0; var c10 = 0.0; var c11 = 0.0;\n"
    "  for (var t = 0u; t < n; t += T) {\n"
    "    for (var i = 0u; i < 2u; i++) {\n"
    "      for (var j = 0u; j < 2u; j++) {\n"
    "        let r = l.y + i * H;\n"
    "        let k = l.x + j * H;\n"
    "        var va = 0.0;\n"
    "        if (row0 + r < n && t + k < n) { va = a[(row0 + r) * n + t + k]; }\n"
    "        ta[r][k] = va;\n"
    "        var vb = 0.0;\n"
    "        if (t + r < n && col0 + k < n) { vb = b[(t + r) * n + col0 + k]; }\n"
    "        tb[r][k] = vb;\n"
    "      }\n"
    "    }\n"
    "    workgroupBarrier();\n"
    "    for (var k = 0u; k < T; k++) {\n"
    "      let a0 = ta[l.y][k];\n"
    "      let a1 = ta[l.y + H][k];\n"
    "      let b0 = tb[k][l.x];\n"
    "      let b1 = tb[k][l.x + H];\n"
    "      c00 = fma(a0, b0, c00); c01 = fma(a0, b1, c01);\n"
    "      c10 = fma(a1, b0, c10); c11 = fma(a1, b1, c11);\n"
    "    }\n"
    "    workgroupBarrier();\n"
    "  }\n"
    "  let r0 = row0 + l.y; let r1 = r0 + H;\n"
    "  let k0 = col0 + l.x; let k1 = k0 + H;\n"
    "  if (r0 < n && k0 < n) { c[r0 * n + k0] = c00; }\n"
    "  if (r0 < n && k1 < n) { c[r0 * n + k1] = c01; }\n"
    "  if (r1 < n && k0 < n) { c[r1 * n + k0] = c10; }\n"
    "  if (r1 < n && k1 < n) { c[r1 * n + k1] = c11; }\n"
    "}\n";

#endif
