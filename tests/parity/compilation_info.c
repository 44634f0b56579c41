/* Shader compilation info: message counts, types and line numbers (never
 * the texts) for a valid shader, a shader with a syntax error, one with a
 * type error on a known line, and one that only has warnings; and what
 * using an invalid module in a pipeline reports. */
#include "util.h"

struct info_result { int done; WGPUCompilationInfoRequestStatus status; size_t count;
                     int errors, warnings, infos; uint64_t first_line; };

static void on_info(WGPUCompilationInfoRequestStatus status, struct WGPUCompilationInfo const *ci,
                    void *u1, void *u2)
{
    (void)u2;
    struct info_result *r = u1;
    r->status = status;
    if (ci) {
        r->count = ci->messageCount;
        for (size_t i = 0; i < ci->messageCount; i++) {
            const WGPUCompilationMessage *m = &ci->messages[i];
            r->errors += m->type == WGPUCompilationMessageType_Error;
            r->warnings += m->type == WGPUCompilationMessageType_Warning;
            r->infos += m->type == WGPUCompilationMessageType_Info;
            if (i == 0)
                r->first_line = m->lineNum;
        }
    }
    r->done = 1;
}

static void check_shader(struct ctx *c, const char *name, const char *src)
{
    push_scope(c, WGPUErrorFilter_Validation);
    WGPUShaderModule m = make_shader(c, src);
    WGPUErrorType t = pop_scope(c);
    struct info_result r = {0};
    WGPUCompilationInfoCallbackInfo ci = {
        .mode = WGPUCallbackMode_AllowProcessEvents, .callback = on_info, .userdata1 = &r,
    };
    wgpuShaderModuleGetCompilationInfo(m, ci);
    CHECK(wait_until(c->instance, &r.done));
    say("%s: module %s, info %s, messages %zu (errors %d, warnings %d, info %d), first on line %llu",
        name, error_type_name(t), r.status == WGPUCompilationInfoRequestStatus_Success ? "Success" : "other",
        r.count, r.errors, r.warnings, r.infos, (unsigned long long)r.first_line);

    push_scope(c, WGPUErrorFilter_Validation);
    WGPUComputePipelineDescriptor d = {.compute = {.module = m, .entryPoint = sv("main")}};
    WGPUComputePipeline p = wgpuDeviceCreateComputePipeline(c->device, &d);
    say("%s: pipeline %s", name, error_type_name(pop_scope(c)));
    wgpuComputePipelineRelease(p);
    wgpuShaderModuleRelease(m);
}

int main(void)
{
    struct ctx c;
    ctx_init(&c);

    check_shader(&c, "valid",
                 "@compute @workgroup_size(1) fn main() {}\n");
    check_shader(&c, "syntax error",
                 "@compute @workgroup_size(1)\n"
                 "fn main() {\n"
                 "  let x = ;\n"
                 "}\n");
    check_shader(&c, "type error",
                 "@compute @workgroup_size(1)\n"
                 "fn main() {\n"
                 "  var a : u32 = 1u;\n"
                 "  var b : f32 = 2.0;\n"
                 "  let c = a + b;\n"
                 "}\n");
    check_shader(&c, "unreachable code warning",
                 "@compute @workgroup_size(1)\n"
                 "fn main() {\n"
                 "  return;\n"
                 "  var x = 1;\n"
                 "}\n");
    check_shader(&c, "undeclared identifier",
                 "@group(0) @binding(0) var<storage, read_write> o : array<u32>;\n"
                 "@compute @workgroup_size(1) fn main() { o[0] = nothing; }\n");

    /* The module errors above were caught by scopes; nothing else leaked. */
    ctx_release(&c);
    return finish();
}
