"""The installed llama.cpp runs on any x86-64 with AVX2, and uses more where the CPU has it (issue 17).

`make install` builds llama.cpp's CPU backend as variants that llama.cpp chooses between at run time
(scripts/llama-wheel.sh); these tests read what was installed, not the script."""

from __future__ import annotations

import importlib.util
import platform
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(platform.machine() not in ("x86_64", "AMD64"), reason="x86-64 CPU variants")

REPO = Path(__file__).resolve().parents[2]
_spec = importlib.util.find_spec("llama_cpp")
assert _spec is not None and _spec.origin is not None
LIB = Path(_spec.origin).parent / "lib"

# What each variant needs, in /proc/cpuinfo's words, and llama.cpp's score bit for each feature
# (ggml-cpu/arch/x86/cpu-feats.cpp: a variant scores the sum of its features' bits, 0 if one is missing).
BASE = {"fma": 0, "f16c": 1, "sse4_2": 2, "bmi2": 3, "avx": 4, "avx2": 5}
AVX512 = {"avx512f": 7, "avx512cd": 7, "avx512vl": 7, "avx512dq": 7, "avx512bw": 7}
VARIANTS = {
    "haswell": BASE,
    "alderlake": {**BASE, "avx_vnni": 6},
    "skylakex": {**BASE, **AVX512},
    "icelake": {**BASE, **AVX512, "avx512vbmi": 8, "avx512_vnni": 10},
    "zen4": {**BASE, **AVX512, "avx512vbmi": 8, "avx512_bf16": 9, "avx512_vnni": 10},
}
ABOVE_AVX2 = {"skylakex", "icelake", "zen4"}  # the only libraries allowed AVX-512 registers


def _installed_variants() -> list[str]:
    return sorted(p.name[len("libggml-cpu-"):-len(".so")] for p in LIB.glob("libggml-cpu-*.so"))


def _cpu_flags() -> set[str]:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("flags"):
            return set(line.split(":", 1)[1].split())
    return set()


def test_the_build_has_its_variants_no_amx_and_avx512_only_above_the_floor() -> None:
    assert _installed_variants() == sorted(VARIANTS), "make install builds these five (scripts/llama-wheel.sh)"
    for so in sorted(LIB.glob("*.so")):
        code = subprocess.run(["objdump", "-d", str(so)], capture_output=True, text=True, check=True).stdout
        amx = code.count("ldtilecfg") + code.count("tdpb")
        zmm = code.count("%zmm")
        assert amx == 0, f"{so.name} holds AMX instructions"
        variant = so.name[len("libggml-cpu-"):-len(".so")] if so.name.startswith("libggml-cpu-") else None
        if variant in ABOVE_AVX2:
            assert zmm > 0, f"{so.name} should use AVX-512"  # the check can see them, so the zero below means it
        else:
            assert zmm == 0, f"{so.name} holds AVX-512 instructions; it must run on any AVX2 CPU"


def test_llama_cpp_loads_the_variant_this_cpu_runs_best() -> None:
    out = subprocess.run([sys.executable, "-c", "from rag.backends.llama_server import load_cpu_backend; "
                          "print(load_cpu_backend())"], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    chosen = out.stdout.split()[-1]
    flags = _cpu_flags()
    scores = {v: sum(1 << bit for bit in set(needs.values())) for v, needs in VARIANTS.items() if set(needs) <= flags}
    assert scores, "this CPU lacks AVX2: below the floor Newsdesk supports"
    assert chosen == max(scores, key=lambda v: scores[v]), (chosen, scores)
    if "avx512f" in flags and "avx512vl" in flags:
        assert chosen in ABOVE_AVX2
