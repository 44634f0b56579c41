# ggml from the client fixtures (../shared/clients, read there, never
# copied into the project), for scripts/check-clients and scripts/bench-llm:
# its source unpacked and patched once, Dawn found by CMake through a small
# DawnConfig.cmake, and targets built with its WebGPU backend. Sourced; the
# caller sets top and build and defines give_up WHY... (report and exit).
#
#   ggml_prepare        checks the fixtures and tools, unpacks, writes the
#                       Dawn config; sets ggml_rev, clients, headers,
#                       dawn_lib, work (BUILD/clients), src, gbuild,
#                       gbuild_vm
#   ggml_build [--vm] TARGET..
#                       configures (once) and builds those targets of ggml
#                       in $gbuild (log $work/build.txt); with --vm, in
#                       $gbuild_vm for the VM's plain x86-64 CPU (no AVX,
#                       no OpenMP; log $work/build-vm.txt)
#
# Environment: WGV_CLIENTS_DIR, the fixtures (default: ../shared/clients
# beside the repository).

ggml_rev=a014b1c3

ggml_prepare() {
  clients=${WGV_CLIENTS_DIR:-$top/../shared/clients}
  local tarball=$clients/ggml-$ggml_rev.tar.gz
  local patchfile=$clients/ggml-$ggml_rev-pinned-dawn.patch
  headers=$clients/dawn-headers
  local f t
  for f in "$tarball" "$patchfile" "$headers/webgpu/webgpu_cpp.h"; do
    [ -f "$f" ] || give_up "the client fixtures are missing: no $f" \
      "(they are read from ../shared/clients beside the repository, or WGV_CLIENTS_DIR)"
  done
  clients=$(cd "$clients" && pwd)
  tarball=$clients/ggml-$ggml_rev.tar.gz
  patchfile=$clients/ggml-$ggml_rev-pinned-dawn.patch
  headers=$clients/dawn-headers

  dawn_lib=$top/.deps/dawn/libwebgpu_wrapper.so
  [ -f "$dawn_lib" ] || give_up "no $dawn_lib (scripts/bootstrap installs it)"
  for t in cmake g++ patch; do
    command -v "$t" >/dev/null || give_up "$t is not installed (scripts/bootstrap --clients installs it)"
  done
  mkdir -p "$build/clients" || give_up "cannot create $build/clients"
  work=$(cd "$build/clients" && pwd)

  # The source, unpacked and patched once per tarball/patch pair.
  local stamp
  stamp="$(sha256sum <"$tarball" | cut -d' ' -f1) $(sha256sum <"$patchfile" | cut -d' ' -f1)"
  src=$work/src
  gbuild=$work/ggml-build
  gbuild_vm=$work/ggml-build-vm
  if [ "$(cat "$work/src.stamp" 2>/dev/null)" != "$stamp" ]; then
    echo "unpacking ggml $ggml_rev into $src"
    rm -rf "$src" "$gbuild" "$work/src.stamp"
    mkdir -p "$src"
    tar -xzf "$tarball" -C "$src" || give_up "cannot unpack $tarball"
    (cd "$src" && patch -p1 -s <"$patchfile") || give_up "$patchfile does not apply"
    echo "$stamp" >"$work/src.stamp"
  fi

  # Dawn for CMake: headers from the fixtures, the library by name.
  mkdir -p "$work/dawn"
  ln -sfn "$dawn_lib" "$work/dawn/libwebgpu_dawn.so"
  local config
  config=$(cat <<EOF
# Written by scripts/check-clients: ggml's find_package(Dawn).
if(NOT TARGET dawn::webgpu_dawn)
  add_library(dawn::webgpu_dawn SHARED IMPORTED)
  set_target_properties(dawn::webgpu_dawn PROPERTIES
    IMPORTED_LOCATION "$work/dawn/libwebgpu_dawn.so"
    IMPORTED_NO_SONAME TRUE
    INTERFACE_INCLUDE_DIRECTORIES "$headers")
endif()
set(Dawn_FOUND TRUE)
EOF
)
  # Rewritten only when it changes: a new one makes CMake configure again.
  if [ "$(cat "$work/DawnConfig.cmake" 2>/dev/null)" != "$config" ]; then
    printf '%s\n' "$config" >"$work/DawnConfig.cmake"
  fi
}

ggml_build() {
  local dir=$gbuild log=$work/build.txt flags=()
  if [ "${1:-}" = --vm ]; then
    shift
    dir=$gbuild_vm log=$work/build-vm.txt
    flags=(-DGGML_NATIVE=OFF -DGGML_SSE42=OFF -DGGML_AVX=OFF -DGGML_AVX2=OFF -DGGML_FMA=OFF
      -DGGML_F16C=OFF -DGGML_BMI2=OFF -DGGML_OPENMP=OFF)
  fi
  local targets=() t
  for t in "$@"; do targets+=(--target "$t"); done
  {
    if [ ! -f "$dir/CMakeCache.txt" ]; then
      cmake -B "$dir" -S "$src" -DGGML_WEBGPU=ON -DDawn_DIR="$work" \
        -DCMAKE_BUILD_TYPE=Release -DGGML_BUILD_EXAMPLES=OFF "${flags[@]}"
    fi &&
      cmake --build "$dir" "${targets[@]}" -j2
  } >"$log" 2>&1 || {
    tail -n 30 "$log" | sed 's/^/    /'
    rm -f "$dir/CMakeCache.txt" # configure from scratch next time
    give_up "building ggml failed (log: $log)"
  }
}

# ggml_build_gpt2 GGML_BUILD OUT: ggml's GPT-2 example (examples/gpt-2/
# main-sched.cpp, as it is) built as OUT against the ggml libraries of
# GGML_BUILD (built first: ggml_build ggml). It is compiled with
# GGML_USE_CUDA and bench/llm/shim first on the include path, whose
# ggml-cuda.h turns the example's CUDA hook into a backend lookup by name
# ($WGV_LLM_BACKEND, default WebGPU). Rebuilt only when a source is newer.
ggml_build_gpt2() {
  local lib=$1/src out=$2 f
  local sources=("$src/examples/gpt-2/main-sched.cpp" "$src/examples/common.cpp" "$src/examples/common-ggml.cpp")
  local fresh=1
  for f in "${sources[@]}" "$top/bench/llm/shim/ggml-cuda.h" "$lib/libggml.so"; do
    [ -f "$out" ] && [ "$out" -nt "$f" ] || fresh=0
  done
  ((fresh)) && return 0
  mkdir -p "$(dirname "$out")"
  g++ -O2 -std=c++17 -DGGML_USE_CUDA -I "$top/bench/llm/shim" -I "$src/include" -I "$src/examples" \
    "${sources[@]}" -L "$lib" -lggml -lggml-cpu -lggml-base -Wl,-rpath,"$lib" -o "$out" \
    >"$out.log" 2>&1 || give_up "building ggml's GPT-2 example failed (log: $out.log)"
}
