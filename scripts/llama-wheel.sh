#!/usr/bin/env bash
# Build llama-cpp-python for a portable CPU baseline, keep the wheel under a key of its build flags, install it.
#
# Why: llama.cpp's default is GGML_NATIVE=ON (-march=native). On an Intel VM that reports AMX it compiles AMX
# tile code the VM refuses (SIGSEGV on the first generation), and a wheel built natively and cached by pip
# dies with an illegal instruction on an older CPU. pip's wheel cache does not know CMAKE_ARGS, so we never
# let it hold this wheel: ours lives in a folder named by version, machine, compiler and flags.
# Usage: scripts/llama-wheel.sh PYTHON   (the venv's python)
set -euo pipefail
PY=$1
VERSION=0.3.36
arch=$(uname -m)
case "$arch" in
  x86_64|amd64)
    # llama.cpp's own run-time dispatch: the CPU backend built as several variants, each a library that
    # llama.cpp scores against the CPU's features when the model process starts (rag/backends/llama_server.py
    # loads them), so one wheel runs everywhere and uses AVX-512 where there is some. The floor is the x86-64
    # baseline every current server and laptop has (Haswell, Zen 1 on: AVX2, FMA, F16C, BMI2); there is no
    # variant below it. No AMX variant: llama.cpp's score reads CPUID only, and a VM that reports AMX without
    # granting the tile registers dies on the first `ldtilecfg` (issue 17).
    variants="haswell skylakex icelake zen4 alderlake"
    flags="-DGGML_NATIVE=OFF -DGGML_BACKEND_DL=ON -DGGML_CPU_ALL_VARIANTS=ON variants=$variants"
    forbidden='ldtilecfg|tdpb'  # AMX tiles, in any library
    beyond_floor='%zmm'         # AVX-512 registers: only in the AVX-512 variants
    floor_variant=haswell
    ;;
  aarch64|arm64)
    # ARMv8.2-A: every 64-bit Arm server core in use (Graviton 2+, Ampere Altra, Neoverse N1+).
    flags="-DGGML_NATIVE=OFF -DGGML_CPU_ARM_ARCH=armv8.2-a"
    forbidden='sve|sme'
    beyond_floor='a^'  # matches nothing
    variants="" floor_variant=""
    ;;
  *)
    flags="-DGGML_NATIVE=OFF"
    forbidden='a^' beyond_floor='a^'  # nothing checked
    variants="" floor_variant=""
    ;;
esac
compiler=$( (${CC:-cc} --version 2>/dev/null || echo none) | head -1)
key=$(printf '%s\n' "$VERSION" "$arch" "$compiler" "$flags" | sha256sum | cut -c1-16)
cache=${NEWSDESK_WHEEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/newsdesk/wheels}/llama-cpp-python-$VERSION-$arch-$key
wheel=$(ls "$cache"/llama_cpp_python-"$VERSION"-*.whl 2>/dev/null | head -1 || true)
if [ -z "$wheel" ]; then
  tmp=$(mktemp -d "${TMPDIR:-/tmp}/llama-wheel.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  "$PY" -m pip download -q --no-deps --no-binary :all: --no-cache-dir -d "$tmp" "llama-cpp-python==$VERSION"
  tar -xzf "$tmp"/llama_cpp_python-"$VERSION".tar.gz -C "$tmp"
  src=$tmp/llama_cpp_python-$VERSION
  if [ -n "$variants" ]; then
    echo "== Building llama-cpp-python $VERSION for $arch, CPU variants chosen at run time: $variants (about 6 min on 2 cores)"
    # llama.cpp's variant list is fixed in its CMake: keep ours (it must hold every one, or we stop), and have
    # llama-cpp-python's CMake install them beside libggml (it installs only the one `ggml-cpu` library).
    "$PY" - "$src" $variants <<'EOF_PY'
import re, sys
src, keep = sys.argv[1], set(sys.argv[2:])
top = f"{src}/CMakeLists.txt"
text = open(top).read()
line = "    llama_cpp_python_install_target(ggml-cpu)\n"
if line not in text:
    sys.exit(f"{top} no longer installs ggml-cpu as we expect: the llama-cpp-python version changed?")
extra = "".join(f"    llama_cpp_python_install_target(ggml-cpu-{v})\n" for v in sorted(keep))
open(top, "w").write(text.replace(line, line + extra))
path = f"{src}/vendor/llama.cpp/ggml/src/CMakeLists.txt"
text = open(path).read()
variant = re.compile(r"^\s*ggml_add_cpu_backend_variant\((\w+)[\s)]", re.M)
# The x86 list: from its first variant (x64) to the next architecture's branch.
x86 = re.search(r'if \(GGML_SYSTEM_ARCH STREQUAL "x86"\)\n\s*ggml_add_cpu_backend_variant\(x64\).*?(?=\n    elseif)',
                text, re.S)
if not x86 or not keep <= set(variant.findall(x86.group(0))):
    sys.exit(f"llama.cpp's CMake has no x86 CPU variants {sorted(keep)}: the llama-cpp-python version changed?")
kept = "".join(line for line in x86.group(0).splitlines(keepends=True)
               if not (m := variant.match(line)) or m.group(1) in keep)
assert set(variant.findall(kept)) == keep
open(path, "w").write(text[:x86.start()] + kept + text[x86.end():])
EOF_PY
  else
    echo "== Building llama-cpp-python $VERSION for a portable $arch baseline (about 5 min on 2 cores)"
  fi
  # CFLAGS/CXXFLAGS from the caller's shell could carry -march=native back in.
  env -u CFLAGS -u CXXFLAGS CMAKE_ARGS="${flags%% variants=*}" FORCE_CMAKE=1 \
    "$PY" -m pip wheel -q --no-deps --no-cache-dir -w "$tmp/wheel" "$src"
  built=$(ls "$tmp"/wheel/llama_cpp_python-*.whl)
  # Prove it: every variant is in the wheel, no AMX anywhere, nothing beyond the floor outside the variants above it.
  (cd "$tmp" && python3 -m zipfile -e "$built" unpacked >/dev/null)
  for v in $variants; do
    if [ ! -f "$tmp/unpacked/llama_cpp/lib/libggml-cpu-$v.so" ]; then
      echo "error: the wheel lacks the CPU variant $v (libggml-cpu-$v.so); refusing to install it" >&2
      exit 1
    fi
  done
  for so in "$tmp"/unpacked/llama_cpp/lib/*.so; do
    pattern="$forbidden|$beyond_floor"
    case "$(basename "$so")" in
      "libggml-cpu-$floor_variant.so") ;;
      libggml-cpu-*.so) pattern=$forbidden ;;  # a variant above the floor, chosen only where the CPU has it
    esac
    n=$(objdump -d "$so" | grep -cE "$pattern" || true)
    if [ "$n" != 0 ]; then
      echo "error: $so holds $n instructions beyond what it may ($pattern); refusing to install it" >&2
      exit 1
    fi
  done
  mkdir -p "$cache"
  cp "$built" "$cache"/
  wheel=$cache/$(basename "$built")
fi
# Same version as a build installed before: only a forced reinstall replaces it (then the server's dependencies).
"$PY" -m pip install -q --no-cache-dir --force-reinstall --no-deps "$wheel"
"$PY" -m pip install -q --no-cache-dir "$wheel[server]"
echo "llama-cpp-python $VERSION from $wheel"
