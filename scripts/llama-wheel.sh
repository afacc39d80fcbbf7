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
    # The x86-64 baseline every current server and laptop has (Haswell, Zen 1 on): AVX2, FMA, F16C, BMI2.
    # Nothing AVX-512, AVX-VNNI or AMX: those are only safe when chosen at run time, and this build has no
    # run-time dispatch (GGML_BACKEND_DL is off in llama-cpp-python).
    flags="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON \
-DGGML_AVX_VNNI=OFF -DGGML_AVX512=OFF -DGGML_AVX512_VBMI=OFF -DGGML_AVX512_VNNI=OFF -DGGML_AVX512_BF16=OFF \
-DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF"
    forbidden='ldtilecfg|tdpb|%zmm'  # AMX tiles, AVX-512 registers
    ;;
  aarch64|arm64)
    # ARMv8.2-A: every 64-bit Arm server core in use (Graviton 2+, Ampere Altra, Neoverse N1+).
    flags="-DGGML_NATIVE=OFF -DGGML_CPU_ARM_ARCH=armv8.2-a"
    forbidden='sve|sme'
    ;;
  *)
    flags="-DGGML_NATIVE=OFF"
    forbidden='^$'
    ;;
esac
compiler=$( (${CC:-cc} --version 2>/dev/null || echo none) | head -1)
key=$(printf '%s\n' "$VERSION" "$arch" "$compiler" "$flags" | sha256sum | cut -c1-16)
cache=${NEWSDESK_WHEEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/newsdesk/wheels}/llama-cpp-python-$VERSION-$arch-$key
wheel=$(ls "$cache"/llama_cpp_python-"$VERSION"-*.whl 2>/dev/null | head -1 || true)
if [ -z "$wheel" ]; then
  echo "== Building llama-cpp-python $VERSION for a portable $arch baseline (about 5 min on 2 cores)"
  tmp=$(mktemp -d "${TMPDIR:-/tmp}/llama-wheel.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  # CFLAGS/CXXFLAGS from the caller's shell could carry -march=native back in.
  env -u CFLAGS -u CXXFLAGS CMAKE_ARGS="$flags" FORCE_CMAKE=1 \
    "$PY" -m pip wheel -q --no-deps --no-cache-dir --no-binary llama-cpp-python -w "$tmp" "llama-cpp-python==$VERSION"
  built=$(ls "$tmp"/llama_cpp_python-*.whl)
  # Prove it: no instruction outside the baseline in the CPU backend.
  (cd "$tmp" && python3 -m zipfile -e "$built" unpacked >/dev/null)
  for so in "$tmp"/unpacked/llama_cpp/lib/libggml-cpu*.so; do
    n=$(objdump -d "$so" | grep -cE "$forbidden" || true)
    if [ "$n" != 0 ]; then
      echo "error: $so holds $n instructions beyond the portable baseline ($forbidden); refusing to install it" >&2
      exit 1
    fi
  done
  mkdir -p "$cache"
  cp "$built" "$cache"/
  wheel=$cache/$(basename "$built")
fi
"$PY" -m pip install -q --no-cache-dir "$wheel[server]"
echo "llama-cpp-python $VERSION from $wheel"
