/* wgv-gpt2-weights: writes a GPT-2 model file in ggml's format (the one
 * ggml's examples/gpt-2 programs load) with seeded pseudo-random weights,
 * so that an inference benchmark needs no download (docs/llm.md).
 *
 *   wgv-gpt2-weights [--size tiny|124M|355M|774M|1.5B] [--type f32|f16]
 *                    [--seed N] OUT
 *
 * The same size, type and seed always give the same bytes. The file:
 * magic "ggml", the hyperparameters (vocabulary, context, width, heads,
 * layers, file type), the vocabulary, then each tensor as its dimension
 * count, name length, element type, dimensions, name and data. Matrices
 * are f16 or f32 as asked; biases, norms and position embeddings are f32.
 *
 * Token i of the vocabulary is " w" and four letters (its number in base
 * 26), so printed text maps back to token ids and a prompt of such words
 * tokenizes to exactly those ids. The end-of-text token's embedding row
 * (50256, shared with the output head) is zero: its logit is 0 while the
 * sampled ones are the largest, so generation never stops early. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GGML_MAGIC 0x67676d6cu
#define N_VOCAB 50257
#define END_OF_TEXT 50256

struct size {
    const char *name;
    int32_t n_ctx, n_embd, n_head, n_layer;
};

/* The published GPT-2 shapes, and a small one for tests. */
static const struct size sizes[] = {
    {"tiny", 128, 128, 4, 2},
    {"124M", 1024, 768, 12, 12},
    {"355M", 1024, 1024, 16, 24},
    {"774M", 1024, 1280, 20, 36},
    {"1.5B", 1024, 1600, 25, 48},
};

/* splitmix64: small, fast and the same everywhere. */
static uint64_t next_random(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Uniform in [-a, a). */
static float uniform(uint64_t *state, float a)
{
    double u = (double)(next_random(state) >> 11) * (1.0 / 9007199254740992.0);
    return (float)((2.0 * u - 1.0) * a);
}

/* IEEE binary16 of a float, rounded to nearest even. */
static uint16_t to_half(float f)
{
    uint32_t x;
    memcpy(&x, &f, 4);
    uint32_t sign = (x >> 16) & 0x8000u;
    int32_t exp = (int32_t)((x >> 23) & 0xFF) - 127 + 15;
    uint32_t mant = x & 0x7FFFFFu;
    if (((x >> 23) & 0xFF) == 0xFF) /* inf, NaN */
        return (uint16_t)(sign | 0x7C00u | (mant ? 0x200u : 0));
    if (exp >= 31)
        return (uint16_t)(sign | 0x7C00u);
    if (exp <= 0) { /* subnormal or zero */
        if (exp < -10)
            return (uint16_t)sign;
        mant |= 0x800000u;
        uint32_t shift = (uint32_t)(14 - exp);
        uint32_t half = mant >> shift;
        uint32_t rest = mant & ((1u << shift) - 1);
        uint32_t mid = 1u << (shift - 1);
        if (rest > mid || (rest == mid && (half & 1)))
            half++;
        return (uint16_t)(sign | half);
    }
    uint32_t half = sign | ((uint32_t)exp << 10) | (mant >> 13);
    uint32_t rest = mant & 0x1FFFu;
    if (rest > 0x1000u || (rest == 0x1000u && (half & 1)))
        half++; /* may carry into the exponent, which is still right */
    return (uint16_t)half;
}

struct out {
    FILE *f;
    const char *path;
    int failed;
};

static void put(struct out *o, const void *p, size_t n)
{
    if (!o->failed && fwrite(p, 1, n, o->f) != n) {
        fprintf(stderr, "wgv-gpt2-weights: writing %s: %s\n", o->path, strerror(errno));
        o->failed = 1;
    }
}

static void put_i32(struct out *o, int32_t v)
{
    put(o, &v, 4);
}

enum fill { FILL_RANDOM, FILL_ONE, FILL_ZERO };

/* One tensor: ne0 x ne1 (ne1 0: one dimension), f16 when `half`. */
static void tensor(struct out *o, uint64_t *rng, const char *name, int32_t ne0, int32_t ne1, int half,
                   enum fill fill, float scale, int32_t zero_row)
{
    put_i32(o, ne1 ? 2 : 1);
    put_i32(o, (int32_t)strlen(name));
    put_i32(o, half ? 1 : 0);
    put_i32(o, ne0);
    if (ne1)
        put_i32(o, ne1);
    put(o, name, strlen(name));
    int32_t rows = ne1 ? ne1 : 1;
    size_t esize = half ? 2 : 4;
    unsigned char *row = malloc((size_t)ne0 * esize);
    if (!row) {
        fprintf(stderr, "wgv-gpt2-weights: out of memory\n");
        o->failed = 1;
        return;
    }
    for (int32_t r = 0; r < rows && !o->failed; r++) {
        for (int32_t i = 0; i < ne0; i++) {
            float v = fill == FILL_ONE ? 1.0f : fill == FILL_ZERO ? 0.0f : uniform(rng, scale);
            if (r == zero_row)
                v = 0.0f;
            if (half) {
                uint16_t h = to_half(v);
                memcpy(row + 2 * (size_t)i, &h, 2);
            } else {
                memcpy(row + 4 * (size_t)i, &v, 4);
            }
        }
        put(o, row, (size_t)ne0 * esize);
    }
    free(row);
}

static void usage(void)
{
    fprintf(stderr, "usage: wgv-gpt2-weights [--size tiny|124M|355M|774M|1.5B] [--type f32|f16] "
                    "[--seed N] OUT\n");
}

int main(int argc, char **argv)
{
    const struct size *sz = &sizes[1];
    int half = 0;
    uint64_t seed = 1;
    const char *path = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--size") && i + 1 < argc) {
            const char *want = argv[++i];
            sz = NULL;
            for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++)
                if (!strcmp(sizes[k].name, want))
                    sz = &sizes[k];
            if (!sz) {
                fprintf(stderr, "wgv-gpt2-weights: no size %s\n", want);
                return 2;
            }
        } else if (!strcmp(argv[i], "--type") && i + 1 < argc) {
            const char *t = argv[++i];
            if (strcmp(t, "f16") && strcmp(t, "f32")) {
                fprintf(stderr, "wgv-gpt2-weights: type is f16 or f32, not %s\n", t);
                return 2;
            }
            half = !strcmp(t, "f16");
        } else if (!strcmp(argv[i], "--seed") && i + 1 < argc) {
            seed = strtoull(argv[++i], NULL, 0);
        } else if (argv[i][0] == '-' || path) {
            usage();
            return 2;
        } else {
            path = argv[i];
        }
    }
    if (!path) {
        usage();
        return 2;
    }

    struct out o = {fopen(path, "wb"), path, 0};
    if (!o.f) {
        fprintf(stderr, "wgv-gpt2-weights: cannot create %s: %s\n", path, strerror(errno));
        return 1;
    }
    static char buf[1 << 20];
    setvbuf(o.f, buf, _IOFBF, sizeof buf);
    uint64_t rng = seed;
    const int32_t e = sz->n_embd;

    put_i32(&o, (int32_t)GGML_MAGIC);
    put_i32(&o, N_VOCAB);
    put_i32(&o, sz->n_ctx);
    put_i32(&o, e);
    put_i32(&o, sz->n_head);
    put_i32(&o, sz->n_layer);
    put_i32(&o, half ? 1 : 0);

    put_i32(&o, N_VOCAB);
    for (int32_t t = 0; t < N_VOCAB; t++) {
        char word[8] = " w";
        for (int k = 0, n = t; k < 4; k++, n /= 26)
            word[5 - k] = (char)('a' + n % 26);
        put_i32(&o, 6);
        put(&o, word, 6);
    }

    /* Weights uniform with GPT-2's initial standard deviation (0.02);
     * the projections into the residual stream scaled down by depth as
     * GPT-2 does, so the stream stays of the same order through the
     * layers. */
    const float a = 0.02f * 1.7320508f;
    const float a_proj = a / 2.0f / (float)(sz->n_layer > 1 ? sz->n_layer : 1);
    char name[64];
    tensor(&o, &rng, "model/ln_f/g", e, 0, 0, FILL_ONE, 0, -1);
    tensor(&o, &rng, "model/ln_f/b", e, 0, 0, FILL_ZERO, 0, -1);
    tensor(&o, &rng, "model/wte", e, N_VOCAB, half, FILL_RANDOM, a, END_OF_TEXT);
    tensor(&o, &rng, "model/wpe", e, sz->n_ctx, 0, FILL_RANDOM, a / 2, -1);
    for (int32_t l = 0; l < sz->n_layer && !o.failed; l++) {
#define LAYER(suffix) (snprintf(name, sizeof name, "model/h%d/%s", (int)l, suffix), name)
        tensor(&o, &rng, LAYER("ln_1/g"), e, 0, 0, FILL_ONE, 0, -1);
        tensor(&o, &rng, LAYER("ln_1/b"), e, 0, 0, FILL_ZERO, 0, -1);
        tensor(&o, &rng, LAYER("attn/c_attn/w"), e, 3 * e, half, FILL_RANDOM, a, -1);
        tensor(&o, &rng, LAYER("attn/c_attn/b"), 3 * e, 0, 0, FILL_RANDOM, a, -1);
        tensor(&o, &rng, LAYER("attn/c_proj/w"), e, e, half, FILL_RANDOM, a_proj, -1);
        tensor(&o, &rng, LAYER("attn/c_proj/b"), e, 0, 0, FILL_ZERO, 0, -1);
        tensor(&o, &rng, LAYER("ln_2/g"), e, 0, 0, FILL_ONE, 0, -1);
        tensor(&o, &rng, LAYER("ln_2/b"), e, 0, 0, FILL_ZERO, 0, -1);
        tensor(&o, &rng, LAYER("mlp/c_fc/w"), e, 4 * e, half, FILL_RANDOM, a, -1);
        tensor(&o, &rng, LAYER("mlp/c_fc/b"), 4 * e, 0, 0, FILL_RANDOM, a, -1);
        tensor(&o, &rng, LAYER("mlp/c_proj/w"), 4 * e, e, half, FILL_RANDOM, a_proj, -1);
        tensor(&o, &rng, LAYER("mlp/c_proj/b"), e, 0, 0, FILL_ZERO, 0, -1);
#undef LAYER
    }
    if (fclose(o.f) != 0 && !o.failed) {
        fprintf(stderr, "wgv-gpt2-weights: writing %s: %s\n", path, strerror(errno));
        o.failed = 1;
    }
    if (o.failed) {
        remove(path);
        return 1;
    }
    return 0;
}
